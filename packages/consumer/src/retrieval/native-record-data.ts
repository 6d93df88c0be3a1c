import type { GetRecordsCommand, KinesisClient, SubscribeToShardCommand } from '@aws-sdk/client-kinesis';
import { speaksAwsJson11, type Logger } from '@kinesis-kit/core';
import { useNativeEventRecordData } from './event-record-data.js';
import { useNativeRecordData } from './records-response.js';

/** One consumer's switch: on for awsJson1_1 clients, off for good after the first mismatch (shared by its fetchers). */
export class NativeRecordData {
  private on: boolean;

  constructor(
    client: KinesisClient,
    private readonly logger: Logger,
  ) {
    this.on = speaksAwsJson11(client);
  }

  get enabled(): boolean {
    return this.on;
  }

  /** `command`, decoding its records' Data natively while the switch is on. */
  apply(command: GetRecordsCommand): GetRecordsCommand {
    return this.on ? useNativeRecordData(command, this.turnOff) : command;
  }

  /** The same for a subscription's events (event-record-data.ts). */
  applyToSubscription(command: SubscribeToShardCommand): SubscribeToShardCommand {
    return this.on ? useNativeEventRecordData(command, this.turnOff) : command;
  }

  private readonly turnOff = (): void => {
    if (this.on) this.logger.warn({}, 'records did not line up with the Data read from the response; the SDK decodes them from now on');
    this.on = false;
  };
}
