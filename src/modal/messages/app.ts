/** The calls that set up a session: auth token, app, environment (for the image builder version). */
import { readMessage } from "../protobuf/reader.ts";
import { ProtoWriter } from "../protobuf/writer.ts";
import { ObjectCreationType } from "./common.ts";

/** AuthTokenGetResponse: token=1 (a JWT). The request is empty. */
export function decodeAuthTokenGetResponse(bytes: Uint8Array): { token: string } {
  let token = "";
  readMessage(bytes, (reader, field, wireType) => {
    if (field !== 1) return false;
    token = reader.string(wireType);
    return true;
  });
  return { token };
}

/** AppGetOrCreateRequest: app_name=1, environment_name=2, object_creation_type=3 (always CREATE_IF_MISSING). */
export function encodeAppGetOrCreateRequest(request: {
  appName: string;
  environmentName: string;
}): Uint8Array {
  return new ProtoWriter()
    .string(1, request.appName)
    .string(2, request.environmentName)
    .int32(3, ObjectCreationType.CREATE_IF_MISSING)
    .finish();
}

/** AppGetOrCreateResponse: app_id=1 (handle_metadata=2 is not needed). */
export function decodeAppGetOrCreateResponse(bytes: Uint8Array): { appId: string } {
  let appId = "";
  readMessage(bytes, (reader, field, wireType) => {
    if (field !== 1) return false;
    appId = reader.string(wireType);
    return true;
  });
  return { appId };
}

/** EnvironmentGetOrCreateRequest: deployment_name=1 (empty for the default environment). */
export function encodeEnvironmentGetOrCreateRequest(request: { deploymentName: string }): Uint8Array {
  return new ProtoWriter().string(1, request.deploymentName).finish();
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
  readMessage(bytes, (reader, field, wireType) => {
    if (field === 1) environmentId = reader.string(wireType);
    else if (field === 2) {
      readMessage(reader.bytes(wireType), (metadata, metadataField, metadataWireType) => {
        if (metadataField !== 2) return false;
        readMessage(metadata.bytes(metadataWireType), (settings, settingsField, settingsWireType) => {
          if (settingsField !== 1) return false;
          imageBuilderVersion = settings.string(settingsWireType);
          return true;
        });
        return true;
      });
    } else return false;
    return true;
  });
  return { environmentId, imageBuilderVersion };
}
