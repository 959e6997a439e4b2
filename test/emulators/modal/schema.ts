/**
 * The messages the emulator understands, transcribed from the official SDK's generated code (`modal@0.11.1`,
 * `node_modules/modal/dist/index.js`, the `encode` function of each message) — deliberately *not* imported from
 * `src/sandboxes/direct/messages`, so the emulator checks our client against the SDK's numbering rather than against itself.
 *
 * Request messages list every field the SDK can write, so whatever it sends decodes by name. Nested message types
 * we never look into are `bytes` here ("opaque"): they still decode, as hex, and compare exactly.
 *
 * Types: a scalar name, a message name from this table, or `map<T>` (string keys). Label `repeated`, or
 * `optional` for proto3 `optional` scalars (written even when they hold the default).
 */
export type Scalar =
  | "string"
  | "bytes"
  | "bool"
  | "int32"
  | "uint32"
  | "int64"
  | "uint64"
  | "double"
  | "float";
export type FieldSpec = readonly [name: string, type: string, label?: "repeated" | "optional"];
export type MessageSpec = Readonly<Record<number, FieldSpec>>;

export const SCALARS: ReadonlySet<string> = new Set<Scalar>([
  "string",
  "bytes",
  "bool",
  "int32",
  "uint32",
  "int64",
  "uint64",
  "double",
  "float",
]);

export const MESSAGES: Readonly<Record<string, MessageSpec>> = {
  Empty: {},
  // ---- common
  GenericResult: {
    1: ["status", "int32"],
    2: ["exception", "string"],
    3: ["exitcode", "int32"],
    4: ["traceback", "string"],
    5: ["data", "bytes", "optional"],
    10: ["data_blob_id", "string", "optional"],
    11: ["serialized_tb", "bytes"],
    12: ["tb_line_cache", "bytes"],
    13: ["propagation_reason", "string"],
  },
  SandboxTag: { 1: ["tag_name", "string"], 2: ["tag_value", "string"] },
  StringMap: { 1: ["contents", "map<string>"] },
  SecretSource: { 1: ["secret_id", "string", "optional"], 2: ["env", "StringMap"] },
  GPUConfig: { 1: ["type", "int32"], 2: ["count", "uint32"], 4: ["gpu_type", "string"] },
  Resources: {
    2: ["memory_mb", "uint32"],
    3: ["milli_cpu", "uint32"],
    4: ["gpu_config", "GPUConfig"],
    5: ["memory_mb_max", "uint32"],
    6: ["ephemeral_disk_mb", "uint32"],
    7: ["milli_cpu_max", "uint32"],
    8: ["rdma", "bool"],
  },
  NetworkAccess: {
    1: ["network_access_type", "int32"],
    2: ["allowed_cidrs", "string", "repeated"],
    3: ["allowed_domains", "string", "repeated"],
  },
  PortSpecs: { 1: ["ports", "bytes", "repeated"] },
  SandboxHandleMetadata: { 1: ["result", "GenericResult"], 2: ["app_id", "string"] },
  // ---- auth, app, environment
  AuthTokenGetResponse: { 1: ["token", "string"] },
  AppGetOrCreateRequest: {
    1: ["app_name", "string"],
    2: ["environment_name", "string"],
    3: ["object_creation_type", "int32"],
  },
  AppGetOrCreateResponse: { 1: ["app_id", "string"], 2: ["handle_metadata", "bytes"] },
  EnvironmentGetOrCreateRequest: { 1: ["deployment_name", "string"], 2: ["object_creation_type", "int32"] },
  EnvironmentGetOrCreateResponse: { 1: ["environment_id", "string"], 2: ["metadata", "EnvironmentMetadata"] },
  EnvironmentMetadata: {
    1: ["name", "string"],
    2: ["settings", "EnvironmentSettings"],
    3: ["environment_type", "int32"],
  },
  EnvironmentSettings: {
    1: ["image_builder_version", "string"],
    2: ["webhook_suffix", "string"],
    3: ["max_concurrent_gpus", "int32", "optional"],
    4: ["max_concurrent_tasks", "int32", "optional"],
    5: ["block_unauthenticated_resources", "bool", "optional"],
  },
  // ---- images
  Image: {
    5: ["base_images", "bytes", "repeated"],
    6: ["dockerfile_commands", "string", "repeated"],
    7: ["context_files", "bytes", "repeated"],
    11: ["version", "string"],
    12: ["secret_ids", "string", "repeated"],
    14: ["build_function_def", "string"],
    15: ["context_mount_id", "string"],
    16: ["gpu_config", "GPUConfig"],
    17: ["image_registry_config", "bytes"],
    18: ["build_function_globals", "bytes"],
    19: ["runtime", "string"],
    20: ["runtime_debug", "bool"],
    21: ["build_function", "bytes"],
    22: ["build_args", "map<string>"],
    23: ["volume_mounts", "bytes", "repeated"],
    24: ["arch", "int32"],
  },
  ImageGetOrCreateRequest: {
    2: ["image", "Image"],
    4: ["app_id", "string"],
    5: ["existing_image_id", "string"],
    6: ["build_function_id", "string"],
    7: ["force_build", "bool"],
    8: ["namespace", "int32"],
    9: ["builder_version", "string"],
    10: ["allow_global_deployment", "bool"],
    11: ["ignore_cache", "bool"],
  },
  ImageGetOrCreateResponse: {
    1: ["image_id", "string"],
    2: ["result", "GenericResult"],
    3: ["metadata", "bytes"],
  },
  ImageJoinStreamingRequest: {
    1: ["image_id", "string"],
    2: ["timeout", "float"],
    3: ["last_entry_id", "string"],
    4: ["include_logs_for_finished", "bool"],
  },
  ImageJoinStreamingResponse: {
    1: ["result", "GenericResult"],
    2: ["task_logs", "bytes", "repeated"],
    3: ["entry_id", "string"],
    4: ["eof", "bool"],
    5: ["metadata", "bytes"],
  },
  // ---- secrets
  SecretGetOrCreateRequest: {
    1: ["deployment_name", "string"],
    3: ["environment_name", "string"],
    4: ["object_creation_type", "int32"],
    5: ["env_dict", "map<string>"],
    6: ["app_id", "string"],
    7: ["required_keys", "string", "repeated"],
  },
  SecretGetOrCreateResponse: { 1: ["secret_id", "string"], 2: ["metadata", "bytes"] },
  // ---- sandboxes
  Sandbox: {
    1: ["entrypoint_args", "string", "repeated"],
    2: ["mount_ids", "string", "repeated"],
    3: ["image_id", "string"],
    4: ["secret_ids", "string", "repeated"],
    5: ["resources", "Resources"],
    6: ["cloud_provider", "int32"],
    7: ["timeout_secs", "uint32"],
    8: ["workdir", "string", "optional"],
    9: ["nfs_mounts", "bytes", "repeated"],
    10: ["runtime_debug", "bool"],
    11: ["block_network", "bool"],
    12: ["s3_mounts", "bytes", "repeated"],
    13: ["volume_mounts", "bytes", "repeated"],
    14: ["cloud_bucket_mounts", "bytes", "repeated"],
    15: ["pty_info", "bytes"],
    17: ["scheduler_placement", "SchedulerPlacement"],
    19: ["worker_id", "string"],
    20: ["open_ports", "PortSpecs"],
    21: ["i6pn_enabled", "bool"],
    22: ["network_access", "NetworkAccess"],
    23: ["proxy_id", "string", "optional"],
    24: ["enable_snapshot", "bool"],
    25: ["snapshot_version", "uint32", "optional"],
    26: ["cloud_provider_str", "string"],
    27: ["runsc_runtime_version", "string", "optional"],
    28: ["runtime", "string", "optional"],
    29: ["verbose", "bool"],
    30: ["name", "string", "optional"],
    31: ["experimental_options", "map<bool>"],
    32: ["preload_path_prefixes", "string", "repeated"],
    33: ["idle_timeout_secs", "uint32", "optional"],
    34: ["direct_sandbox_commands_enabled", "bool"],
    35: ["_restore_instance_type", "string"],
    36: ["custom_domain", "string"],
    37: ["include_oidc_identity_token", "bool"],
    38: ["readiness_probe", "bytes"],
    39: ["inbound_cidr_allowlist", "string", "repeated"],
    40: ["environment_variables", "StringMap"],
    41: ["experimental_options_v2", "map<string>"],
    42: ["experimental_outbound_policy", "bytes"],
    43: ["include_x509_svid", "bool"],
    44: ["outbound_policy", "bytes"],
  },
  // Modal's generated names keep the proto's capitals (`Zone`, not `zone`).
  SchedulerPlacement: {
    2: ["Zone", "string", "optional"],
    3: ["Lifecycle", "string", "optional"],
    4: ["regions", "string", "repeated"],
    5: ["InstanceTypes", "string", "repeated"],
    6: ["nonpreemptible", "bool"],
  },
  SandboxCreateRequest: {
    1: ["app_id", "string"],
    2: ["definition", "Sandbox"],
    3: ["environment_name", "string"],
    4: ["tags", "SandboxTag", "repeated"],
  },
  SandboxCreateResponse: { 1: ["sandbox_id", "string"], 2: ["metadata", "SandboxHandleMetadata"] },
  SandboxCreateV2Request: {
    1: ["app_id", "string"],
    2: ["definition", "Sandbox"],
    3: ["ephemeral_secrets", "StringMap"],
    4: ["tags", "SandboxTag", "repeated"],
    5: ["cloud_bucket_mount_credentials", "map<StringMap>"],
    6: ["secret_sources", "SecretSource", "repeated"],
  },
  SandboxCreateV2Response: {
    1: ["sandbox_id", "string"],
    2: ["tunnels", "bytes", "repeated"],
    3: ["task_id", "string"],
    4: ["metadata", "SandboxHandleMetadata"],
    5: ["command_router_access", "bytes"],
    6: ["sandbox_token", "string"],
  },
  SandboxGetTaskIdRequest: {
    1: ["sandbox_id", "string"],
    2: ["timeout", "float", "optional"],
    3: ["wait_until_ready", "bool"],
  },
  SandboxGetTaskIdResponse: { 1: ["task_id", "string", "optional"], 2: ["task_result", "GenericResult"] },
  SandboxListRequest: {
    1: ["app_id", "string"],
    2: ["before_timestamp", "double"],
    3: ["environment_name", "string"],
    4: ["include_finished", "bool"],
    5: ["tags", "SandboxTag", "repeated"],
  },
  SandboxInfo: {
    1: ["id", "string"],
    3: ["created_at", "double"],
    4: ["task_info", "bytes"],
    5: ["app_id", "string"],
    6: ["tags", "SandboxTag", "repeated"],
    7: ["name", "string"],
    8: ["image_id", "string"],
    9: ["resource_info", "bytes"],
    10: ["regions", "string", "repeated"],
    11: ["timeout_secs", "uint32"],
    12: ["idle_timeout_secs", "uint32", "optional"],
    13: ["ready_at", "double", "optional"],
    14: ["readiness_probe", "bytes"],
    15: ["tunnels", "bytes", "repeated"],
    16: ["metadata", "SandboxHandleMetadata"],
  },
  SandboxListResponse: { 1: ["sandboxes", "SandboxInfo", "repeated"] },
  SandboxTerminateRequest: { 1: ["sandbox_id", "string"] },
  SandboxTerminateResponse: { 1: ["existing_result", "GenericResult"] },
  SandboxWaitRequest: { 1: ["sandbox_id", "string"], 2: ["timeout", "float"] },
  SandboxWaitResponse: { 1: ["result", "GenericResult"], 2: ["metadata", "SandboxHandleMetadata"] },
};

export interface MethodSpec {
  request: string;
  response: string;
  /** Server streaming. */
  stream?: true;
}

/** The RPCs the emulator serves (names and message types as in the SDK's `ModalClientDefinition`). */
export const METHODS: Readonly<Record<string, MethodSpec>> = {
  AuthTokenGet: { request: "Empty", response: "AuthTokenGetResponse" },
  AppGetOrCreate: { request: "AppGetOrCreateRequest", response: "AppGetOrCreateResponse" },
  EnvironmentGetOrCreate: {
    request: "EnvironmentGetOrCreateRequest",
    response: "EnvironmentGetOrCreateResponse",
  },
  ImageGetOrCreate: { request: "ImageGetOrCreateRequest", response: "ImageGetOrCreateResponse" },
  ImageJoinStreaming: {
    request: "ImageJoinStreamingRequest",
    response: "ImageJoinStreamingResponse",
    stream: true,
  },
  SecretGetOrCreate: { request: "SecretGetOrCreateRequest", response: "SecretGetOrCreateResponse" },
  SandboxCreate: { request: "SandboxCreateRequest", response: "SandboxCreateResponse" },
  SandboxCreateV2: { request: "SandboxCreateV2Request", response: "SandboxCreateV2Response" },
  SandboxGetTaskId: { request: "SandboxGetTaskIdRequest", response: "SandboxGetTaskIdResponse" },
  SandboxGetTaskIdV2: { request: "SandboxGetTaskIdRequest", response: "SandboxGetTaskIdResponse" },
  SandboxList: { request: "SandboxListRequest", response: "SandboxListResponse" },
  SandboxListV2: { request: "SandboxListRequest", response: "SandboxListResponse" },
  SandboxTerminate: { request: "SandboxTerminateRequest", response: "SandboxTerminateResponse" },
  SandboxTerminateV2: { request: "SandboxTerminateRequest", response: "SandboxTerminateResponse" },
  SandboxWait: { request: "SandboxWaitRequest", response: "SandboxWaitResponse" },
  SandboxWaitV2: { request: "SandboxWaitRequest", response: "SandboxWaitResponse" },
};
