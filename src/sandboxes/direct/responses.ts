/**
 * What a decoded response must contain before we act on it. The decoders already give typed values (an absent
 * field reads as its default), so these schemas only reject the defaults that would be silent failures: an
 * empty id, a list entry without id. A violation is a permanent `bad_response` naming the field.
 */
import * as z from "zod/mini";

const id = z.string().check(z.minLength(1));

export const AppResponse = z.object({ appId: id });
export const ImageResponse = z.object({ imageId: id });
export const SecretResponse = z.object({ secretId: id });
export const SandboxCreated = z.object({ sandboxId: id });
export const SandboxList = z.object({
  sandboxes: z.array(z.object({ id, createdAt: z.number().check(z.gte(0)) })),
});
export const AuthToken = z.object({ token: id });
