import { SetMetadata } from '@nestjs/common';

export const JOB_HANDLER = Symbol('JOB_HANDLER');

/** Marks a provider method as the handler of one job name; the worker discovers it at start. */
export const OnJob = (name: string): MethodDecorator => SetMetadata(JOB_HANDLER, name);
