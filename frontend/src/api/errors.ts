/** The error shape of every API answer (DESIGN §3). */
export interface ApiErrorBody {
  error: { code: string; message: string; details?: unknown };
}

export class ApiFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }

  /** Per-field messages from VALIDATION_FAILED-style details: `[{ field, problems }]`. */
  fieldErrors(): Record<string, string> {
    const details = Array.isArray(this.details) ? this.details : [];
    const fromList = details
      .filter(
        (item): item is { field: string; problems: string[] } => typeof item?.field === 'string',
      )
      .map((item) => [item.field, item.problems[0] ?? this.message]);
    const single = this.details as { field?: unknown } | undefined;
    if (typeof single?.field === 'string') fromList.push([single.field, this.message]);
    return Object.fromEntries(fromList);
  }
}

type FetchResult<T> = { data?: T; error?: unknown; response: Response };

/** The ApiFailure of a failed openapi-fetch result, carrying the API's code. */
export function failureOf(result: FetchResult<unknown>): ApiFailure {
  const body = result.error as Partial<ApiErrorBody> | undefined;
  return new ApiFailure(
    body?.error?.code ?? `HTTP_${result.response.status}`,
    body?.error?.message ?? `Request failed (${result.response.status})`,
    body?.error?.details,
  );
}

/** Unwraps an openapi-fetch result: the data, or an ApiFailure carrying the API's code. */
export function unwrap<T>(result: FetchResult<T>): T {
  if (result.response.ok) return result.data as T;
  throw failureOf(result);
}
