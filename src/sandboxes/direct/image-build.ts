/**
 * Getting a registry image built, as the SDK does: EnvironmentGetOrCreate once per environment (for the image
 * builder version), ImageGetOrCreate with `["FROM <tag>"]`, and while the result is unset, ImageJoinStreaming
 * long polls (55 s server-side) resumed from the last entry id.
 *
 * A build can outlast a queue message's patience: past `buildTimeoutMs` we give up with a RetryableError. The
 * next attempt's ImageGetOrCreate finds the same image (Modal keys images by definition) and joins the build
 * that is still running, so nothing is lost.
 */
import { PermanentError, RetryableError, UpstreamError } from "../../errors.ts";
import { decodeEnvironmentGetOrCreateResponse, encodeEnvironmentGetOrCreateRequest } from "./messages/app.ts";
import { type GenericResult, GenericStatus } from "./messages/common.ts";
import {
  decodeImageGetOrCreateResponse,
  decodeImageJoinStreamingResponse,
  encodeImageGetOrCreateRequest,
  encodeImageJoinStreamingRequest,
} from "./messages/image.ts";
import { ImageResponse } from "./responses.ts";
import type { Rpc } from "./rpc.ts";

/** The SDK's long-poll length. */
const JOIN_TIMEOUT_SECONDS = 55;
/** A poll shorter than this is not started. */
const MIN_POLL_MS = 1_000;
/** HTTP deadline of one long poll: the server's 55 s plus room for the answer to travel. */
const JOIN_HTTP_TIMEOUT_MS = (JOIN_TIMEOUT_SECONDS + 10) * 1000;

export interface ImageBuilder {
  ensureImage(appId: string, environment: string, registryTag: string): Promise<string>;
}

export function createImageBuilder(options: {
  rpc: Rpc;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  buildTimeoutMs: number;
  /** Skips EnvironmentGetOrCreate when set (the SDK's MODAL_IMAGE_BUILDER_VERSION). */
  imageBuilderVersion: string | undefined;
}): ImageBuilder {
  const { rpc } = options;
  const builderVersions = new Map<string, Promise<string>>();

  const builderVersion = (environment: string): Promise<string> => {
    if (options.imageBuilderVersion !== undefined) return Promise.resolve(options.imageBuilderVersion);
    let version = builderVersions.get(environment);
    if (version === undefined) {
      version = rpc
        .unary(
          "EnvironmentGetOrCreate",
          encodeEnvironmentGetOrCreateRequest({ deploymentName: environment }),
          decodeEnvironmentGetOrCreateResponse,
        )
        .then((response) => response.imageBuilderVersion);
      builderVersions.set(environment, version);
      // A failure must not stick: the next image build asks again.
      version.catch(() => builderVersions.delete(environment));
    }
    return version;
  };

  const join = async (imageId: string, deadline: number): Promise<GenericResult> => {
    let lastEntryId = "";
    let failures = 0;
    let lastError: unknown;
    for (;;) {
      const remaining = deadline - options.now();
      // A poll that cannot last a second is not worth starting: leave the build to a later attempt.
      if (remaining < MIN_POLL_MS) break;
      let items: ReturnType<typeof decodeImageJoinStreamingResponse>[];
      try {
        items = await rpc.stream(
          "ImageJoinStreaming",
          encodeImageJoinStreamingRequest({ imageId, timeoutSeconds: JOIN_TIMEOUT_SECONDS, lastEntryId }),
          decodeImageJoinStreamingResponse,
          { timeoutMs: Math.min(JOIN_HTTP_TIMEOUT_MS, remaining) },
        );
        failures = 0;
      } catch (error) {
        // A long poll that breaks, or outlives the budget, is polled again while time remains; a permanent
        // error ends the build.
        if (!(error instanceof UpstreamError) || !error.retryable) throw error;
        lastError = error;
        await options.sleep(Math.min(100 * 2 ** failures++, 5_000));
        continue;
      }
      for (const item of items) {
        if (item.entryId !== "") lastEntryId = item.entryId;
        if (item.result !== undefined && item.result.status !== GenericStatus.UNSPECIFIED) return item.result;
      }
      // A poll that returned at once with nothing new should not turn into a busy loop.
      if (items.length === 0) await options.sleep(250);
    }
    throw new RetryableError(`Modal image ${imageId} is still building; try again later`, {
      service: "modal",
      operation: "ImageJoinStreaming",
      reason: "image_building",
      retryAfterSeconds: 30,
      ...(lastError === undefined ? {} : { cause: lastError }),
    });
  };

  return {
    async ensureImage(appId, environment, registryTag) {
      const deadline = options.now() + options.buildTimeoutMs;
      const response = await rpc.unary(
        "ImageGetOrCreate",
        encodeImageGetOrCreateRequest({
          appId,
          dockerfileCommands: [`FROM ${registryTag}`],
          builderVersion: await builderVersion(environment),
        }),
        decodeImageGetOrCreateResponse,
        ImageResponse,
      );
      const result =
        response.result !== undefined && response.result.status !== GenericStatus.UNSPECIFIED
          ? response.result
          : await join(response.imageId, deadline);
      checkBuild(response.imageId, result);
      return response.imageId;
    },
  };
}

/** SDK semantics: FAILURE and eviction are the image's fault; TERMINATED, TIMEOUT and internal failures may pass. */
function checkBuild(imageId: string, result: GenericResult): void {
  if (result.status === GenericStatus.SUCCESS) return;
  const exception = result.exception.length > 500 ? `${result.exception.slice(0, 500)}…` : result.exception;
  const details = { service: "modal" as const, operation: "ImageGetOrCreate" };
  switch (result.status) {
    case GenericStatus.TERMINATED:
      throw new RetryableError(`Modal image build ${imageId} was terminated; try again`, {
        ...details,
        reason: "image_build_terminated",
      });
    case GenericStatus.TIMEOUT:
      throw new RetryableError(`Modal image build ${imageId} timed out; try again`, {
        ...details,
        reason: "image_build_timeout",
      });
    case GenericStatus.INTERNAL_FAILURE:
      throw new RetryableError(`Modal image build ${imageId} hit an internal failure; try again`, {
        ...details,
        reason: "image_build_internal_failure",
      });
    default:
      throw new PermanentError(
        `Modal image build ${imageId} failed (status ${result.status})${exception ? `: ${exception}` : ""}`,
        { ...details, reason: "image_build_failed" },
      );
  }
}
