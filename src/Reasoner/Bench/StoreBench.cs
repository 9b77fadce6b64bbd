using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Reasoner.Core.Problems;
using Reasoner.Core.Storage;
using Reasoner.Core.Trees;
using Reasoner.Generation;
using Reasoner.Search;

namespace Reasoner.Cli.Bench;

/// <summary>One way of writing or reading the store, timed.</summary>
sealed record StoreBenchResult(string Case, int Trees, long Bytes, TimeSpan Elapsed)
{
    /// <summary>Appends the trees arrived in (each group shares one flush); null where the case appends one tree at a time.</summary>
    public int? Groups { get; init; }

    public double TreesPerSecond => Trees / Elapsed.TotalSeconds;

    public double MegabytesPerSecond => Bytes / 1048576.0 / Elapsed.TotalSeconds;
}

/// <summary>
/// <c>bench store</c>: trees/s into and out of the tree store, with trees the size of the default <c>generate</c> run's
/// (MCTS on arith with the built-in model: about 16 nodes and the full settings record). Writing is timed one tree at a
/// time as generate flushes (every tree, fsync: the default Store settings), through generate's own pipeline and writer
/// when trees arrive faster than an fsync takes (the trees queued together share one: group commit), flushed without
/// fsync, and flushed once at the end; reading is the whole folder, every record checked and deserialized.
/// </summary>
static class StoreBench
{
    public static PreferenceTree TypicalTree(int index, int nodes)
    {
        var tree = ViewBench.SyntheticTree(nodes, seed: index);
        var settings = new Dictionary<string, string>(tree.Search.Settings);
        // The keys an MCTS tree records (values as generate writes them), which are a good part of a small tree's bytes.
        foreach (var (key, value) in new[] { ("actions", "2"), ("explorationWeight", "1"), ("gamma", "1"), ("horizon", "3"), ("iterations", "16"),
                     ("monteCarlo.maxTokens", "384"), ("monteCarlo.rollouts", "8"), ("monteCarlo.temperature", "1"), ("monteCarlo.topP", "1"),
                     ("proposal.lengthPenalty", "1.25"), ("proposal.maxStepTokens", "128"), ("proposal.oversampling", "4"), ("proposal.temperature", "1"),
                     ("proposal.topP", "1"), ("rootActions", "2"), ("rootIterationMultiplier", "4"), ("selfEval.prompt", "self-eval"), ("verifier", "none"),
                     ("weights.monteCarlo", "0"), ("weights.outcome", "1"), ("weights.selfEval", "1"), ("weights.selfEvalDepthOffset", "3"), ("weights.verifier", "0"),
                     ("world.depthLimit", "12"), ("world.maxSolutionTokens", "512") })
            settings[key] = value;
        return new PreferenceTree
        {
            Problem = tree.Problem with { Id = $"arith-{index:x16}" },
            ModelId = "/work/models/builtin",
            Search = new SearchSettings(AlgorithmNames.Mcts, settings),
            Seed = 1234,
            Timings = new SearchTimings(DateTime.UtcNow, 5500) { PhaseMs = new Dictionary<string, double> { ["propose"] = 2788.6, ["score"] = 2699.0, ["select"] = 8.2 } },
            Nodes = tree.Nodes,
        };
    }

    public static IReadOnlyList<StoreBenchResult> Run(int count, int nodes, Action<string> progress)
    {
        var trees = Enumerable.Range(0, count).Select(i => TypicalTree(i, nodes)).ToList();
        var results = new List<StoreBenchResult>();
        var root = Directory.CreateTempSubdirectory("reasoner-bench-store-").FullName;
        try
        {
            string last = "";
            foreach (var (name, flush) in new (string, FlushPolicy?)[]
                     {
                         ("write one at a time, flush + fsync every tree (generate's default)", GenerateFlush),
                         ("write, flush every tree, no fsync", new FlushPolicy { EveryRecords = 1, ToDisk = false }),
                         ("write, one flush at the end", null),
                     })
            {
                progress(name);
                last = Path.Combine(root, $"run-{results.Count}");
                var options = new TreeStoreWriterOptions { Flush = flush ?? new FlushPolicy { EveryRecords = int.MaxValue, ToDisk = false } };
                var clock = Stopwatch.StartNew();
                using (var store = TreeStore.Open(last, options))
                {
                    foreach (var tree in trees) store.Append(tree);
                    store.Flush(flushToDisk: flush?.ToDisk ?? false);
                }
                clock.Stop();
                results.Add(new StoreBenchResult(name, count, FolderBytes(last), clock.Elapsed));
            }
            progress("through generate's pipeline");
            results.Insert(1, ThroughPipeline(trees, Path.Combine(root, "pipeline"), PipelineWorkers));
            progress("read");
            var reading = Stopwatch.StartNew();
            var read = TreeStore.Open(last).ReadAll(d => throw new InvalidDataException($"damaged record in the bench's own store: {d.Reason}")).Count();
            reading.Stop();
            if (read != count) throw new InvalidDataException($"read {read} trees of {count} written");
            results.Add(new StoreBenchResult("read all (records checked, deserialized)", read, FolderBytes(last), reading.Elapsed));
            return results;
        }
        finally { Directory.Delete(root, recursive: true); }
    }

    /// <summary>Search workers handing trees to the pipeline's one writer.</summary>
    public const int PipelineWorkers = 4;

    /// <summary>The writer options generate's default Store settings give (flush and fsync after every append).</summary>
    static TreeStoreWriterOptions GenerateWriter => new StoreSettings().ToWriterOptions(writerId: null);

    static FlushPolicy GenerateFlush => GenerateWriter.Flush;

    /// <summary>
    /// generate's writer under load: the real <see cref="GenerationPipeline"/> with its default queue capacity and the
    /// default Store settings, fed by workers whose "search" hands over a ready tree at once, so trees queue while the
    /// writer fsyncs and each group it drains shares one flush and fsync.
    /// </summary>
    static StoreBenchResult ThroughPipeline(IReadOnlyList<PreferenceTree> trees, string run, int workers)
    {
        var settings = new GenerateSettings();
        var sink = new GroupCountingSink(TreeStoreSink.Open(run, GenerateWriter, NullLogger.Instance));
        var pipeline = new GenerationPipeline(new ReadyTrees(trees), sink,
            new PipelineOptions { Workers = workers, ProblemQueueCapacity = settings.ProblemQueueCapacity, TreeQueueCapacity = settings.TreeQueueCapacity },
            NullLogger.Instance);
        var clock = Stopwatch.StartNew();
        PipelineResult result;
        using (sink) result = pipeline.RunAsync([new ProblemListSource("bench", trees.Select(t => t.Problem).ToList())], CancellationToken.None).GetAwaiter().GetResult();
        clock.Stop();
        if (result.End != PipelineEnd.Completed || sink.Trees != trees.Count)
            throw new InvalidOperationException($"the pipeline ended {result.End} with {sink.Trees} of {trees.Count} trees stored");
        return new StoreBenchResult($"write through generate's pipeline, {workers} workers, a flush + fsync per group queued", trees.Count, FolderBytes(run), clock.Elapsed)
        {
            Groups = sink.Groups,
        };
    }

    /// <summary>A search that returns the ready tree of each problem at once.</summary>
    sealed class ReadyTrees(IReadOnlyList<PreferenceTree> trees) : ISearchAlgorithm
    {
        readonly Dictionary<string, PreferenceTree> _byId = trees.ToDictionary(t => t.Problem.Id);

        public string Name => AlgorithmNames.Mcts;

        public Task<PreferenceTree> SearchAsync(Problem problem, CancellationToken cancel = default) => Task.FromResult(_byId[problem.Id]);
    }

    sealed class GroupCountingSink(ITreeSink inner) : ITreeSink
    {
        public int Trees { get; private set; }

        public int Groups { get; private set; }

        public IReadOnlySet<string> StoredProblemIds() => inner.StoredProblemIds();

        public void Append(PreferenceTree tree) => Append([tree]);

        public void Append(IReadOnlyList<PreferenceTree> trees)
        {
            inner.Append(trees);
            Trees += trees.Count;
            Groups++;
        }

        public void Flush() => inner.Flush();

        public void Dispose() => inner.Dispose();
    }

    static long FolderBytes(string run) =>
        new DirectoryInfo(Path.Combine(run, TreeStore.TreesFolderName)).EnumerateFiles().Sum(f => f.Length);
}
