/**
 * An HTTP/2 gRPC server (`@grpc/grpc-js`) that accepts every ModalClient method the SDK knows, as raw bytes, and
 * answers through the emulator core (`invoke`). The official SDK thus talks real gRPC to the same logic our
 * client meets over HTTP/1.1, and every call it makes is recorded in the emulator namespace `namespace`.
 */
import * as grpc from "@grpc/grpc-js";
import type { ModalEmulator } from "../../emulators/modal/emulator.ts";
import { sdkMethods } from "./sdk-source.ts";

const identity = (value: Buffer): Buffer => value;

function headersOf(metadata: grpc.Metadata): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata.getMap())) {
    headers[key.toLowerCase()] = typeof value === "string" ? value : value.toString("base64");
  }
  return headers;
}

function statusError(code: number, details: string): Partial<grpc.StatusObject> {
  return { code, details, metadata: new grpc.Metadata() };
}

export async function startSdkCaptureServer(
  emulator: ModalEmulator,
  namespace: string,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = new grpc.Server();
  const definition: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {};
  const implementation: grpc.UntypedServiceImplementation = {};
  for (const method of sdkMethods()) {
    definition[method.name] = {
      path: `/modal.client.ModalClient/${method.name}`,
      requestStream: method.requestStream,
      responseStream: method.responseStream,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
    };
    if (method.requestStream) {
      // Client streams are never part of the flows we compare: refuse them plainly.
      implementation[method.name] = (call: grpc.ServerDuplexStream<Buffer, Buffer>) =>
        call.emit("error", statusError(grpc.status.UNIMPLEMENTED, "client streaming is not captured"));
      continue;
    }
    if (method.responseStream) {
      implementation[method.name] = (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
        const { outcome } = emulator.invoke(namespace, method.name, headersOf(call.metadata), call.request);
        if (!outcome.ok) {
          call.emit("error", statusError(outcome.code, outcome.message));
          return;
        }
        for (const message of outcome.messages) call.write(Buffer.from(message));
        call.end();
      };
    } else {
      implementation[method.name] = (
        call: grpc.ServerUnaryCall<Buffer, Buffer>,
        callback: grpc.sendUnaryData<Buffer>,
      ) => {
        const { outcome } = emulator.invoke(namespace, method.name, headersOf(call.metadata), call.request);
        if (!outcome.ok) callback(statusError(outcome.code, outcome.message), null);
        else callback(null, Buffer.from(outcome.messages[0] ?? new Uint8Array()));
      };
    }
  }
  server.addService(definition, implementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.tryShutdown(() => resolve())),
  };
}
