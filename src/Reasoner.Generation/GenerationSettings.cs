using Reasoner.Models.Backends;

namespace Reasoner.Generation;

/// <summary>
/// The "Generate" settings section: what <c>generate</c> and <c>serve</c> search, with what, and how the pipeline is
/// sized. Command-line options override each value.
/// </summary>
public sealed record GenerateSettings
{
    /// <summary>Task family: arith, logic (built-in generators) or a data-set family (gsm8k, math, arc, csqa, strategyqa).</summary>
    public string Task { get; set; } = "arith";

    /// <summary>Built-in tasks: "train" (the seeded train stream) or "test" (the fixed test set).</summary>
    public string Split { get; set; } = "train";

    /// <summary>Built-in tasks: 1 to 3.</summary>
    public int Difficulty { get; set; } = 2;

    /// <summary>How many problems <c>generate</c> takes from its source (before sharding and resume).</summary>
    public int Problems { get; set; } = 20;

    /// <summary>mcts, best-first or beam.</summary>
    public string Algorithm { get; set; } = "mcts";

    /// <summary>The backend (see <see cref="ModelBackends"/>): builtin, a model folder, a .gguf file, http(s)://HOST:PORT, reference[:MISTAKE_RATE[:LATENCY_MS]].</summary>
    public string Model { get; set; } = LanguageModelFactory.Builtin;

    /// <summary>
    /// The in-process engine's weight dtype: fp32 (the checkpoint's numbers) or bf16 (faster on a GPU or a CPU with bf16
    /// instructions; samples can differ from fp32's by rounding). Other backends choose their own.
    /// </summary>
    public string Dtype { get; set; } = "fp32";

    /// <summary>Search workers; all share one model, so an HTTP backend gets this many searches' requests in flight.</summary>
    public int Workers { get; set; } = 2;

    /// <summary>
    /// The in-process engine's loops over the one set of weights (<see cref="Models.Generation.EngineReplicas"/>), each
    /// batching the requests routed to it; null: <see cref="Models.Generation.EngineReplicas.AutoCount"/> (for a small model
    /// on a CPU one per worker up to one per core; otherwise one).
    /// </summary>
    public int? Replicas { get; set; }

    /// <summary>Problems waiting for a worker, at most.</summary>
    public int ProblemQueueCapacity { get; set; } = 8;

    /// <summary>Finished trees waiting for the store writer, at most.</summary>
    public int TreeQueueCapacity { get; set; } = 8;

    /// <summary>On a stop, how long in-flight searches may run on before they are abandoned.</summary>
    public double GracePeriodSeconds { get; set; } = 10;

    /// <summary>A work queue's entry taken but not acknowledged for this long is claimed by a live worker (its worker died, or its search failed).</summary>
    public double ClaimAfterSeconds { get; set; } = 300;

    /// <summary>A work queue's entry delivered this many times without a completed tree goes to the dead-letter stream.</summary>
    public int MaxDeliveries { get; set; } = 3;

    /// <summary>Seconds between progress log lines when the output is not a terminal.</summary>
    public double ProgressIntervalSeconds { get; set; } = 10;

    /// <summary>"i/n": this process searches the problems whose FNV-1a id hash mod n is i. Empty: all.</summary>
    public string Shard { get; set; } = "";

    public SearchOverrides Search { get; set; } = new();

    /// <summary>How the client reaches the model when <see cref="Model"/> is a server (vLLM, SGLang, serve-model).</summary>
    public ServerClientSettings Server { get; set; } = new();

    /// <summary>A scorer folder (<c>train plv</c>'s verifier) whose step scores search adds to its step values with weight 1; empty: none.</summary>
    public string Verifier { get; set; } = "";
}

/// <summary>Search settings to change; unset values keep the algorithm's defaults (docs/search.md).</summary>
/// <summary>
/// The OpenAI-compatible client's timeouts, retries and concurrency (<c>Generate:Server</c>), for a farm whose server
/// restarts slowly or answers slowly under load; the defaults are <see cref="OpenAiCompletionsOptions"/>'s.
/// </summary>
public sealed record ServerClientSettings
{
    private static readonly OpenAiCompletionsOptions ClientDefaults = new() { BaseUrl = new Uri("http://127.0.0.1") };

    /// <summary>Seconds one attempt may take, reading the whole answer included.</summary>
    public double TimeoutSeconds { get; set; } = ClientDefaults.Timeout.TotalSeconds;

    /// <summary>Retries after a transient failure (connection refused, timeout, 408, 429, 5xx); 0 tries once.</summary>
    public int MaxRetries { get; set; } = ClientDefaults.MaxRetries;

    /// <summary>Seconds before the first retry; each later one doubles it, with jitter.</summary>
    public double RetryDelaySeconds { get; set; } = ClientDefaults.RetryDelay.TotalSeconds;

    /// <summary>No retry waits longer than this many seconds, a server's Retry-After included.</summary>
    public double MaxRetryDelaySeconds { get; set; } = ClientDefaults.MaxRetryDelay.TotalSeconds;

    /// <summary>Requests in flight at once from this process, over all its workers.</summary>
    public int MaxConcurrentRequests { get; set; } = ClientDefaults.MaxConcurrentRequests;

    /// <summary>The client options for a server at <paramref name="baseUrl"/>; settings out of range are refused here, by name.</summary>
    public OpenAiCompletionsOptions ToOptions(Uri baseUrl, string? model)
    {
        if (!(TimeoutSeconds > 0)) throw new ArgumentException($"Generate:Server:TimeoutSeconds must be positive, not {TimeoutSeconds}");
        if (MaxRetries < 0) throw new ArgumentException($"Generate:Server:MaxRetries must be at least 0, not {MaxRetries}");
        if (!(RetryDelaySeconds >= 0)) throw new ArgumentException($"Generate:Server:RetryDelaySeconds must be at least 0, not {RetryDelaySeconds}");
        if (!(MaxRetryDelaySeconds >= RetryDelaySeconds)) throw new ArgumentException($"Generate:Server:MaxRetryDelaySeconds must be at least RetryDelaySeconds ({RetryDelaySeconds}), not {MaxRetryDelaySeconds}");
        if (MaxConcurrentRequests < 1) throw new ArgumentException($"Generate:Server:MaxConcurrentRequests must be at least 1, not {MaxConcurrentRequests}");
        return new OpenAiCompletionsOptions
        {
            BaseUrl = baseUrl,
            Model = model,
            Timeout = TimeSpan.FromSeconds(TimeoutSeconds),
            MaxRetries = MaxRetries,
            RetryDelay = TimeSpan.FromSeconds(RetryDelaySeconds),
            MaxRetryDelay = TimeSpan.FromSeconds(MaxRetryDelaySeconds),
            MaxConcurrentRequests = MaxConcurrentRequests,
        };
    }
}

public sealed record SearchOverrides
{
    /// <summary>mcts: simulations per committed step (the root gets 4×); best-first: most expansions.</summary>
    public int? Iterations { get; set; }

    /// <summary>Steps sampled per expansion (mcts: at the root too).</summary>
    public int? Actions { get; set; }

    /// <summary>beam: partial solutions kept.</summary>
    public int? BeamWidth { get; set; }

    /// <summary>Monte Carlo roll-outs per step, where the algorithm's scorers use them (best-first).</summary>
    public int? Rollouts { get; set; }

    /// <summary>Most steps in a solution.</summary>
    public int? DepthLimit { get; set; }

    /// <summary>Sampling temperature of steps.</summary>
    public double? Temperature { get; set; }

    /// <summary>Token limit of one step.</summary>
    public int? MaxStepTokens { get; set; }

    /// <summary>Samples drawn per wanted step, keeping the first k distinct (see <c>ProposalSettings.Oversampling</c>).</summary>
    public int? Oversampling { get; set; }

    /// <summary>few-shot or bare; unset: bare when the model folder's reasoner.json names solve-bare (the built-in model), few-shot otherwise.</summary>
    public string? SolvePrompt { get; set; }
}

/// <summary>The "Serve" settings section; search and pipeline sizes come from "Generate".</summary>
public sealed record ServeSettings
{
    /// <summary>
    /// Where problems come from (see <see cref="ProblemSourceSpecs"/>): arith, logic (endless train streams), arith:test,
    /// a data-set family (its default file), file:PATH, watch:FOLDER. Empty: arith.
    /// </summary>
    public List<string> Sources { get; set; } = [];

    /// <summary>The run folder: a name under RunsDir, or a path.</summary>
    public string Out { get; set; } = "serve";

    /// <summary>Loopback port of /health and /status; 0 picks a free one (logged).</summary>
    public int Port { get; set; } = 5177;

    /// <summary>Watched folders are listed again this often, besides the file-system events.</summary>
    public double RescanSeconds { get; set; } = 10;

    /// <summary>Stop once every source is exhausted (finite sources only); otherwise wait to be stopped.</summary>
    public bool ExitWhenDone { get; set; }

    /// <summary>Added to the grace period for the host's shutdown timeout: time to drain the tree queue and flush.</summary>
    public double FlushMarginSeconds { get; set; } = 15;
}
