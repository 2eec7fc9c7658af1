// Loaded by path (DataConverter.failureConverterPath) in clients, workers and the workflow sandbox, so
// it imports nothing but @temporalio/common. Failure messages and stack traces (an SMTP refusal may name
// the address) then travel as a payload, which the payload codec encrypts like any other.
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
