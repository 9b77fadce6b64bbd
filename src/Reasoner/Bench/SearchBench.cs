using Reasoner.Training.Evaluation;
using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Reasoner.Generation;
using Reasoner.Core.Answers;
using Reasoner.Core.Problems;
using Reasoner.Core.Prompts;
using Reasoner.Core.Trees;
using Reasoner.Models;
using Reasoner.Models.Backends;
using Reasoner.Models.Checkpoints;
using Reasoner.Models.Generation;
using Reasoner.Models.Tokenization;
using Reasoner.Search;

namespace Reasoner.Cli.Bench;

/// <summary>How the in-process engine serves the search workers' requests.</summary>
enum SearchBenchEngine
{
    /// <summary>Every request for k siblings as k one-row requests, every continuation scored alone, no prefix cache (<see cref="UnbatchedModel"/>).</summary>
    OneRowPerCall,

    /// <summary>Prefix forking, sibling batching and the prefix cache, one request at a time (the engine before cross-request batching).</summary>
    OneRequestAtATime,

    /// <summary>All of that, and every request in flight shares each forward.</summary>
    AcrossRequests,
}

/// <summary>One configuration of the generator that the search benchmark times.</summary>
sealed record SearchBenchCase(string Algorithm, SearchBenchEngine Engine, int Workers)
{
    public string EnginePath => Engine switch
    {
        SearchBenchEngine.OneRowPerCall => "one row per call, no prefix cache",
        SearchBenchEngine.OneRequestAtATime => "forking, one request at a time",
        _ => "forking + batching across requests",
    };

    /// <summary>
    /// Whether its trees must equal the baseline's node for node. Requests sharing a forward change its matrix shapes,
    /// and so fp32 rounding, which can move a sampled token; every other configuration computes each request alone.
    /// </summary>
    public bool MustMatchBaseline => Engine != SearchBenchEngine.AcrossRequests;

    public string ShortLabel => $"{Engine switch { SearchBenchEngine.OneRowPerCall => "unbatched", SearchBenchEngine.OneRequestAtATime => "1 at a time", _ => "batched" }}, {Workers}w";
}

/// <summary>What one configuration did: its trees and the wall time of the whole pipeline run.</summary>
sealed record SearchBenchResult(SearchBenchCase Case, IReadOnlyList<PreferenceTree> Trees, TimeSpan Elapsed, long? PeakBytes)
{
    /// <summary>The engine loop's counters over the run: requests and tokens per forward, time at work (summed over loops).</summary>
    public EngineBatchStats? Engine { get; init; }

    /// <summary>Engine loops over the weights (<see cref="EngineReplicas"/>; 1: one engine).</summary>
    public int Loops { get; init; } = 1;

    /// <summary>The share of prompt tokens the prefix cache (shared by the loops) served instead of a prefill; null without a cache.</summary>
    public double? PromptTokensReused { get; init; }

    /// <summary>With <c>--profile</c>: milliseconds per forward by phase (<see cref="DecodeProfile.Phases"/>), every forward recorded.</summary>
    public IReadOnlyDictionary<string, double>? Profile { get; init; }

    /// <summary>The share of the run's wall time the engine was at work: below 1, the workers kept it waiting.</summary>
    public double EngineBusyShare => Engine is { } e && Elapsed > TimeSpan.Zero ? e.Busy / Elapsed : 0;

    public long Nodes => Trees.Sum(t => (long)t.Nodes.Count);

    public double TreesPerMinute => Trees.Count / Elapsed.TotalMinutes;

    public double NodesPerSecond => Nodes / Elapsed.TotalSeconds;

    public int Failed => Trees.Count(t => t.Status == TreeStatus.Failed);

    /// <summary>Problems whose tree holds a root-to-terminal path that reaches the reference answer.</summary>
    public int WithCorrectPath => Trees.Count(t => t.Status == TreeStatus.Completed && t.HasCorrectPath);

    /// <summary>How many of these trees have the same steps, node for node, as <paramref name="reference"/>'s tree of the same problem.</summary>
    public int SameTreesAs(SearchBenchResult reference) => Trees.Count - ProblemsDifferingFrom(reference).Count;

    /// <summary>The problems whose tree is not <paramref name="reference"/>'s, node for node (or that it has no tree of).</summary>
    public IReadOnlyList<string> ProblemsDifferingFrom(SearchBenchResult reference)
    {
        var steps = reference.Trees.ToDictionary(t => t.Problem.Id, Steps);
        return [.. Trees.Where(t => !steps.TryGetValue(t.Problem.Id, out var other) || other != Steps(t)).Select(t => t.Problem.Id)];
    }

    private static string Steps(PreferenceTree tree) =>
        string.Join('\u001f', tree.Nodes.Select(n => $"{n.Id}/{n.ParentId}/{n.Text}"));
}

/// <summary>
/// <c>bench search</c>: the generator pipeline (problem channel, W workers, tree channel) running a search algorithm
/// on one in-process model, with the engine's fast paths off, on one request at a time, and on across requests, with
/// 1 and more workers, on the same problems
/// and seed. Trees go to memory, not to a store, so the figures are search and model time. Every configuration gets
/// a fresh engine over the same weights, so none starts with another's prefix cache.
/// </summary>
sealed class SearchBench(CausalLanguageModel model, HfTokenizer tokenizer, string modelId, PromptLibrary prompts,
    IReadOnlyList<Problem> problems, SearchOverrides overrides, ModelPromptSettings? modelSettings, long seed)
{
    /// <summary>A step verifier every configuration's search scores new steps with (bench search --verifier).</summary>
    public IStepVerifier? Verifier { get; init; }

    /// <summary>Record where each forward's time goes (<see cref="StepProfiler"/>, every forward).</summary>
    public bool Profile { get; init; }

    /// <summary>The engines' <see cref="TorchEngineOptions.SmallForwardTokens"/>.</summary>
    public int SmallForwardTokens { get; init; } = new TorchEngineOptions().SmallForwardTokens;

    /// <summary>
    /// Engine loops for the batched path (<see cref="EngineReplicas"/>); null: as generate chooses for the configuration's
    /// workers (<see cref="EngineReplicas.AutoCount"/>).
    /// </summary>
    public int? Replicas { get; init; }

    /// <summary>Greedy accuracy on the problems, with the prompt the search starts from (the baseline search must beat).</summary>
    public async Task<int> GreedyCorrectAsync(int maxTokens, Action<int> progress, CancellationToken cancel)
    {
        using var engine = new TorchEngine(model, tokenizer, modelId);
        bool bare = modelSettings?.IsBare == true;
        var world = new StepWorld(prompts, new StepWorldSettings { SolvePrompt = bare ? SolvePromptStyle.Bare : SolvePromptStyle.FewShot });
        var evaluator = new Evaluator(engine, world.InitialState,
            new EvalSettings { K = 1, Samples = 1, MaxTokens = maxTokens, Stop = modelSettings?.Stop ?? PromptLibrary.FewShotStops });
        int correct = 0;
        for (int i = 0; i < problems.Count; i++)
        {
            if ((await evaluator.GreedyAsync(problems[i], i, cancel)).Check.IsCorrect) correct++;
            progress(i + 1);
        }
        return correct;
    }

    public async Task<SearchBenchResult> RunAsync(SearchBenchCase c, Action<int> progress, CancellationToken cancel)
    {
        var options = new TorchEngineOptions
        {
            PrefixCacheTokens = c.Engine == SearchBenchEngine.OneRowPerCall ? 0 : new TorchEngineOptions().PrefixCacheTokens,
            BatchAcrossRequests = c.Engine == SearchBenchEngine.AcrossRequests,
            SmallForwardTokens = SmallForwardTokens,
        };
        int loops = c.Engine == SearchBenchEngine.AcrossRequests ? Replicas ?? EngineReplicas.AutoCount(c.Workers, model.parameters().First().device, model.Config.MatrixWeights) : 1;
        using var replicas = loops > 1 ? new EngineReplicas(model, tokenizer, modelId, loops, options) : null;
        using var engine = replicas is null ? new TorchEngine(model, tokenizer, modelId, options) : null;
        ILanguageModel backend = replicas is not null ? replicas : c.Engine == SearchBenchEngine.OneRowPerCall ? new UnbatchedModel(engine!) : engine!;
        var search = SearchFactory.Create(c.Algorithm, backend, prompts, seed, overrides, modelSettings, Verifier);
        var sink = new MemorySink(progress);
        var pipeline = new GenerationPipeline(search, sink, new PipelineOptions { Workers = c.Workers }, NullLogger.Instance);
        long memoryAtStart = PeakMemory.Reset();
        if (Profile) StepProfiler.Start(everyForward: true);
        var clock = Stopwatch.StartNew();
        var result = await pipeline.RunAsync([new ProblemListSource("bench", problems)], cancel);
        clock.Stop();
        Dictionary<string, double>? profile = null;
        if (Profile)
        {
            var (forwards, phases) = StepProfiler.Stop();
            profile = phases.ToDictionary(p => p.Key, p => p.Value.TotalMilliseconds / Math.Max(1, forwards));
        }
        cancel.ThrowIfCancellationRequested();
        if (result.End != PipelineEnd.Completed) throw new InvalidOperationException($"the {c.Algorithm} run ended {result.End}");
        return new SearchBenchResult(c, sink.Trees, clock.Elapsed, PeakMemory.Since(memoryAtStart)) {
            Engine = replicas?.BatchStats ?? engine!.BatchStats, Loops = loops, Profile = profile,
            PromptTokensReused = options.PrefixCacheTokens > 0 ? Reused(replicas?.PrefixCacheStats ?? engine!.PrefixCacheStats) : null,
        };
    }

    private static double Reused(PrefixCacheStats stats) =>
        stats.ReusedTokens + stats.PrefilledTokens > 0 ? (double)stats.ReusedTokens / (stats.ReusedTokens + stats.PrefilledTokens) : 0;

    private sealed class MemorySink(Action<int> progress) : ITreeSink
    {
        private readonly List<PreferenceTree> _trees = [];

        public IReadOnlyList<PreferenceTree> Trees => _trees;

        public IReadOnlySet<string> StoredProblemIds() => new HashSet<string>();

        public void Append(PreferenceTree tree)
        {
            _trees.Add(tree);
            progress(_trees.Count);
        }

        public void Flush() { }

        public void Dispose() { }
    }
}
