using System.CommandLine;
using Reasoner.Generation;
using Reasoner.Cli.Hosting;

namespace Reasoner.Cli.Commands;

/// <summary>
/// The options <c>generate</c> and <c>serve</c> share: backend, algorithm and its main settings, workers, shard, seed
/// and grace period. Defaults are the settings in force ("Generate" section), so --help shows them; unset search
/// settings keep the algorithm's own defaults.
/// </summary>
sealed class GenerationOptions
{
    private readonly Option<string> _algorithm;
    private readonly Option<string> _model;
    private readonly Option<string> _dtype;
    private readonly Option<int> _workers;
    private readonly Option<int?> _replicas;
    private readonly Option<string?> _shard;
    private readonly Option<int> _seed;
    private readonly Option<double> _grace;
    private readonly Option<double> _claimAfter;
    private readonly Option<int> _maxDeliveries;
    private readonly Option<int?> _iterations;
    private readonly Option<int?> _actions;
    private readonly Option<int?> _beamWidth;
    private readonly Option<int?> _rollouts;
    private readonly Option<int?> _depthLimit;
    private readonly Option<double?> _temperature;
    private readonly Option<int?> _maxStepTokens;
    private readonly Option<int?> _oversampling;
    private readonly Option<string?> _prompt;
    private readonly Option<string?> _verifier;

    public GenerationOptions(ReasonerSettings settings)
    {
        var g = settings.Generate;
        var s = g.Search;
        _algorithm = new Option<string>("--algo") { Description = "Search algorithm.", DefaultValueFactory = _ => g.Algorithm, HelpName = string.Join('|', SearchFactory.Algorithms) };
        _algorithm.AcceptOnlyFromAmong([.. SearchFactory.Algorithms]);
        _model = new Option<string>("--model") { Description = "Backend: builtin (the project's own model), a Hugging Face model folder (in-process engine), http(s)://HOST:PORT or MODEL@http(s)://HOST:PORT (OpenAI-compatible server), a .gguf file (llama.cpp), or reference[:MISTAKE_RATE[:LATENCY_MS]] (weight-free test backend that replays reference solutions with mistakes).", DefaultValueFactory = _ => g.Model };
        _workers = new Option<int>("--workers", "-w") { Description = "Search workers; they share one backend.", DefaultValueFactory = _ => g.Workers };
        _replicas = new Option<int?>("--replicas") { Description = "Loops of the in-process engine over the one set of weights, each batching the requests routed to it (a request goes to the loop with the fewest in flight; the loops share one prefix cache). Default: for a model of at most 20M matrix weights on a CPU (the built-in one), one per worker up to one per core; otherwise one.", DefaultValueFactory = _ => g.Replicas };
        _shard = new Option<string?>("--shard") { Description = "i/n: search only the problems whose id hash mod n is i; n processes share one run folder. auto: i/n from a Kubernetes Indexed Job (JOB_COMPLETION_INDEX, and REASONER_SHARD_COUNT set by the manifest) or a Slurm job array (SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN of SLURM_ARRAY_TASK_COUNT).", DefaultValueFactory = _ => NullIfEmpty(g.Shard) };
        _seed = new Option<int>("--seed") { Description = "Seed of the built-in problem stream and of every search.", DefaultValueFactory = _ => settings.Seed };
        _grace = new Option<double>("--grace-period") { Description = "Seconds in-flight searches may run on after a stop before they are abandoned.", DefaultValueFactory = _ => g.GracePeriodSeconds };
        _claimAfter = new Option<double>("--claim-after") { Description = "redis:// sources: seconds after which an entry taken but not acknowledged is claimed by a live worker (its worker died or its search failed). Longer than the slowest search.", DefaultValueFactory = _ => g.ClaimAfterSeconds };
        _maxDeliveries = new Option<int>("--max-deliveries") { Description = "redis:// sources: deliveries without a completed tree after which an entry goes to the dead-letter stream NAME:dead.", DefaultValueFactory = _ => g.MaxDeliveries };
        _iterations = new Option<int?>("--iterations") { Description = "mcts: simulations per committed step (4x at the root; default 16); best-first: most expansions (default 32).", DefaultValueFactory = _ => s.Iterations };
        _actions = new Option<int?>("--actions", "-k") { Description = "Steps sampled per expansion (default: mcts 2, best-first 4, beam 3).", DefaultValueFactory = _ => s.Actions };
        _beamWidth = new Option<int?>("--beam-width") { Description = "beam: partial solutions kept (default 3).", DefaultValueFactory = _ => s.BeamWidth };
        _rollouts = new Option<int?>("--rollouts") { Description = "Monte Carlo roll-outs per step, where the algorithm's scorers use them (best-first; default 8).", DefaultValueFactory = _ => s.Rollouts };
        _depthLimit = new Option<int?>("--depth-limit") { Description = "Most steps in a solution (default 12).", DefaultValueFactory = _ => s.DepthLimit };
        _temperature = new Option<double?>("--temperature") { Description = "Sampling temperature of steps (default 1.0).", DefaultValueFactory = _ => s.Temperature };
        _maxStepTokens = new Option<int?>("--max-step-tokens") { Description = "Token limit of one step (default 128).", DefaultValueFactory = _ => s.MaxStepTokens };
        _dtype = new Option<string>("--dtype") { Description = "Weight dtype of the in-process engine (builtin or a model folder): fp32, or bf16 (faster on a GPU or a CPU with bf16 instructions such as AVX-512 BF16; samples can differ from fp32's by rounding). Other backends choose their own.", DefaultValueFactory = _ => g.Dtype, HelpName = "fp32|bf16" };
        _dtype.AcceptOnlyFromAmong("fp32", "bf16");
        _oversampling = new Option<int?>("--oversampling") { Description = "Samples drawn per wanted step in one batched request; the first k distinct steps are kept (default: the model folder's reasoner.json, 4 for the built-in model, which repeats its favourite steps; else 1, MCTS-DPO's plain k samples).", DefaultValueFactory = _ => s.Oversampling };
        _prompt = new Option<string?>("--prompt") { Description = "Solve prompt: few-shot or bare (default: bare when the model folder's reasoner.json names solve-bare, as the built-in model's does; few-shot otherwise).", DefaultValueFactory = _ => s.SolvePrompt, HelpName = "few-shot|bare" };
        _prompt.AcceptOnlyFromAmong(Core.Prompts.SolvePromptStyles.FewShot, Core.Prompts.SolvePromptStyles.Bare);
        _verifier = new Option<string?>("--verifier") { Description = "A step verifier: a folder (train plv, or a train oreo folder's value head) or a serve-model --scorer server, [MODEL@]http://HOST:PORT. σ of its score at each new step joins the search's step value with weight 1, and is stored as the node's verifier score.", DefaultValueFactory = _ => NullIfEmpty(g.Verifier) };
    }

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { _algorithm, _model, _dtype, _workers, _replicas, _shard, _seed, _grace, _claimAfter, _maxDeliveries, _iterations, _actions, _beamWidth, _rollouts, _depthLimit, _temperature, _maxStepTokens, _oversampling, _prompt, _verifier })
            command.Add(option);
    }

    /// <summary>The "Generate" settings with these options applied.</summary>
    public GenerateSettings Apply(ParseResult parse, GenerateSettings generate) => generate with
    {
        Algorithm = parse.GetValue(_algorithm)!,
        Model = parse.GetValue(_model)!,
        Dtype = parse.GetValue(_dtype)!,
        Workers = parse.GetValue(_workers),
        Replicas = parse.GetValue(_replicas) is { } replicas ? replicas >= 1 ? replicas : throw new UserError($"--replicas must be at least 1, not {replicas}") : null,
        GracePeriodSeconds = parse.GetValue(_grace),
        ClaimAfterSeconds = parse.GetValue(_claimAfter),
        MaxDeliveries = parse.GetValue(_maxDeliveries),
        Shard = parse.GetValue(_shard) ?? "",
        Verifier = parse.GetValue(_verifier) ?? "",
        Search = new SearchOverrides
        {
            Iterations = parse.GetValue(_iterations),
            Actions = parse.GetValue(_actions),
            BeamWidth = parse.GetValue(_beamWidth),
            Rollouts = parse.GetValue(_rollouts),
            DepthLimit = parse.GetValue(_depthLimit),
            Temperature = parse.GetValue(_temperature),
            MaxStepTokens = parse.GetValue(_maxStepTokens),
            Oversampling = parse.GetValue(_oversampling),
            SolvePrompt = parse.GetValue(_prompt),
        },
    };

    public int Seed(ParseResult parse) => parse.GetValue(_seed);

    /// <summary>How a redis:// source claims and retries; <paramref name="endWhenDrained"/> for a run that ends (generate).</summary>
    public static Generation.Queue.RedisQueueOptions QueueOptions(GenerateSettings generate, bool endWhenDrained) => new()
    {
        ClaimAfter = TimeSpan.FromSeconds(generate.ClaimAfterSeconds),
        MaxDeliveries = generate.MaxDeliveries,
        EndWhenDrained = endWhenDrained,
    };

    private static string? NullIfEmpty(string value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
