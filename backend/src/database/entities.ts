/** Every TypeORM entity, registered once; each domain module adds its own here. */
export const ENTITIES: (new () => object)[] = [];
