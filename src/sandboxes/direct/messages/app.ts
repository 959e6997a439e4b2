/** The calls that set up a session: auth token, app, environment (for the image builder version). */
import { ObjectCreationType } from "./common.ts";
import { BinaryWriter, read, readMessage, writeInt32, writeString } from "./wire.ts";

/** AuthTokenGetResponse: token=1 (a JWT). The request is empty. */
export function decodeAuthTokenGetResponse(bytes: Uint8Array): { token: string } {
  let token = "";
  readMessage(bytes, { 1: read.string((value) => (token = value)) });
  return { token };
}

/** AppGetOrCreateRequest: app_name=1, environment_name=2, object_creation_type=3 (always CREATE_IF_MISSING). */
export function encodeAppGetOrCreateRequest(request: {
  appName: string;
  environmentName: string;
}): Uint8Array {
  const writer = new BinaryWriter();
  writeString(writer, 1, request.appName);
  writeString(writer, 2, request.environmentName);
  writeInt32(writer, 3, ObjectCreationType.CREATE_IF_MISSING);
  return writer.finish();
}

/** AppGetOrCreateResponse: app_id=1 (handle_metadata=2 is not needed). */
export function decodeAppGetOrCreateResponse(bytes: Uint8Array): { appId: string } {
  let appId = "";
  readMessage(bytes, { 1: read.string((value) => (appId = value)) });
  return { appId };
}

/** EnvironmentGetOrCreateRequest: deployment_name=1 (empty for the default environment). */
export function encodeEnvironmentGetOrCreateRequest(request: { deploymentName: string }): Uint8Array {
  const writer = new BinaryWriter();
  writeString(writer, 1, request.deploymentName);
  return writer.finish();
}

/**
 * EnvironmentGetOrCreateResponse: environment_id=1, metadata=2 → EnvironmentMetadata{ settings=2 →
 * EnvironmentSettings{ image_builder_version=1 } }.
 */
export function decodeEnvironmentGetOrCreateResponse(bytes: Uint8Array): {
  environmentId: string;
  imageBuilderVersion: string;
} {
  let environmentId = "";
  let imageBuilderVersion = "";
  readMessage(bytes, {
    1: read.string((value) => (environmentId = value)),
    2: read.bytes((metadata) =>
      readMessage(metadata, {
        2: read.bytes((settings) =>
          readMessage(settings, { 1: read.string((value) => (imageBuilderVersion = value)) }),
        ),
      }),
    ),
  });
  return { environmentId, imageBuilderVersion };
}
