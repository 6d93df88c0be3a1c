/** How a stream is named in Kinesis API calls: StreamName or StreamARN, whichever the user gave. */
export interface StreamRef {
  StreamName?: string;
  StreamARN?: string;
}

export function describeStreamRef(ref: StreamRef): string {
  return ref.StreamARN ?? ref.StreamName ?? '(unnamed stream)';
}
