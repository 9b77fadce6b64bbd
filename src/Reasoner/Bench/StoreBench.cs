using System.Diagnostics;
using Reasoner.Core.Storage;
using Reasoner.Core.Trees;

namespace Reasoner.Cli.Bench;

/// <summary>One way of writing or reading the store, timed.</summary>
sealed record StoreBenchResult(string Case, int Trees, long Bytes, TimeSpan Elapsed)
{
    public double TreesPerSecond => Trees / Elapsed.TotalSeconds;

    public double MegabytesPerSecond => Bytes / 1048576.0 / Elapsed.TotalSeconds;
}

/// <summary>
/// <c>bench store</c>: trees/s into and out of the tree store, with trees the size of the default <c>generate</c> run's
/// (MCTS on arith with the built-in model: about 16 nodes and the full settings record). Writing is timed as generate
/// flushes (every tree, fsync: the default Store settings), flushed without fsync, and flushed once at the end; reading
/// is the whole folder, every record checked and deserialized.
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
                         ("write, flush + fsync every tree (generate's default)", new FlushPolicy { EveryRecords = 1, ToDisk = true }),
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

    static long FolderBytes(string run) =>
        new DirectoryInfo(Path.Combine(run, TreeStore.TreesFolderName)).EnumerateFiles().Sum(f => f.Length);
}
