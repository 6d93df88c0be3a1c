const JSON_1_1 = 'aws.protocols#awsJson1_1';

/**
 * Whether an SDK client serializes its calls as awsJson1_1 (the schema-based clients name their
 * protocol). The producer and the consumer write PutRecords bodies and read GetRecords bodies
 * themselves only for such clients.
 */
export function speaksAwsJson11(client: { config: unknown }): boolean {
  const protocol = (client.config as { protocol?: unknown } | undefined)?.protocol;
  if (typeof protocol !== 'object' || protocol === null) return false;
  const getShapeId = (protocol as { getShapeId?: unknown }).getShapeId;
  return typeof getShapeId === 'function' && (getShapeId as () => unknown).call(protocol) === JSON_1_1;
}
