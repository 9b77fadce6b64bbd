namespace Reasoner.Models.Backends;

/// <summary>Where and how <see cref="OpenAiCompletionsClient"/> reaches an OpenAI-compatible completions server.</summary>
public sealed record OpenAiCompletionsOptions
{
    /// <summary>The server, e.g. <c>http://127.0.0.1:8000</c>; a trailing <c>/v1</c> is accepted and ignored.</summary>
    public required Uri BaseUrl { get; init; }

    /// <summary>The served model's name (vLLM: <c>--served-model-name</c> or the model path); left out of requests when null.</summary>
    public string? Model { get; init; }

    /// <summary>
    /// Sent as <c>Authorization: Bearer …</c> when set. By default the environment's <c>REASONER_API_KEY</c>, the variable
    /// <c>serve-model --api-key</c> also reads, so that one variable configures both ends.
    /// </summary>
    public string? ApiKey { get; init; } = Environment.GetEnvironmentVariable(ApiKeyVariable) is { Length: > 0 } key ? key : null;

    public const string ApiKeyVariable = "REASONER_API_KEY";

    /// <summary>How long one attempt may take, reading the whole answer included.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Retries after a transient failure (connection refused, timeout, 408, 429, 5xx); 0 tries once.</summary>
    public int MaxRetries { get; init; } = 4;

    /// <summary>The first retry's delay; each later one doubles it, with jitter.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>No retry waits longer than this, a server's <c>Retry-After</c> included.</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Requests in flight at once from this client, over all the search workers that share it.</summary>
    public int MaxConcurrentRequests { get; init; } = 32;

    /// <summary>Ask for vLLM's <c>return_tokens_as_token_ids</c> extension so that completions carry token ids (but not token texts).</summary>
    public bool ReturnTokenIds { get; init; }

    /// <summary>
    /// <c>max_tokens</c> of a scoring (echo) request. 0 generates nothing; a server that refuses 0 (vLLM does) makes
    /// the client switch to 1 for good, and the extra token is ignored.
    /// </summary>
    public int EchoMaxTokens { get; init; }
}
