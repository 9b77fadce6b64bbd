using Reasoner.Generation;
using Reasoner.Core.Datasets;
using Reasoner.Core.Problems;
using Reasoner.Core.Trees;
using Reasoner.Models.Backends;
using Reasoner.Tests.Search;
using static Reasoner.Tests.Pipeline.PipelineKit;

namespace Reasoner.Tests.Pipeline;

public sealed class GenerationPipelineTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("reasoner-pipeline-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Run => Path.Combine(_dir, "run");

    private async Task<(PipelineResult Result, ProgressSnapshot Progress)> RunOnce(IReadOnlyList<Problem> problems, PipelineOptions? options = null,
        ILanguageModel? model = null, CancellationToken stop = default)
    {
        using var sink = OpenSink(Run, options?.Shard.WriterId);
        var pipeline = new GenerationPipeline(ScriptedSearch(model), sink, options ?? Options(), new ListLogger());
        var result = await pipeline.RunAsync([new ProblemListSource("test", problems)], stop);
        return (result, pipeline.Progress.Snapshot());
    }

    [Fact]
    public async Task EveryProblemIsStoredExactlyOnce()
    {
        var problems = Problems(24);
        // A repeat in the source must not be searched twice.
        var (result, progress) = await RunOnce([.. problems, problems[3]], Options(workers: 3));

        Assert.Equal(PipelineEnd.Completed, result.End);
        var (trees, damage) = ReadStore(Run);
        Assert.Empty(damage);
        Assert.Equal(problems.Select(p => p.Id).Order(), trees.Select(t => t.Problem.Id).Order());
        Assert.All(trees, t => Assert.Equal(TreeStatus.Completed, t.Status));
        Assert.Equal(24, progress.Completed);
        Assert.Equal(1, progress.Skipped);
        Assert.Equal(trees.Sum(t => t.Nodes.Count), progress.Nodes);
        Assert.Equal(trees.Count(t => t.HasCorrectPath), progress.CorrectPaths);
    }

    [Fact]
    public async Task ASlowWriterHoldsBackTheWorkersAndTheSource()
    {
        var options = Options(workers: 2, problemQueue: 3, treeQueue: 2);
        var source = new CountingSource(Problems(60));
        using var sink = new GatedSink();
        var pipeline = new GenerationPipeline(ScriptedSearch(), sink, options, new ListLogger());

        var running = pipeline.RunAsync([source], CancellationToken.None);

        // Held at most: the group of trees in the writer's append, the tree queue, one finished tree per worker waiting
        // to be queued, the problem queue, and the one problem the source handed out last and the producer waits to queue.
        int Bound() => sink.Waiting + options.TreeQueueCapacity + options.Workers + options.ProblemQueueCapacity + 1;
        await WaitUntil(() => sink.Waiting > 0 && pipeline.TreeQueueDepth == options.TreeQueueCapacity
            && pipeline.ProblemQueueDepth == options.ProblemQueueCapacity && source.Taken == Bound(), "both queues are full");
        await Task.Delay(300);
        Assert.Equal(Bound(), source.Taken);
        Assert.False(running.IsCompleted);

        sink.Open();
        Assert.Equal(PipelineEnd.Completed, (await running).End);
        Assert.Equal(60, sink.Count);
    }

    [Fact]
    public async Task TreesQueuedWhileTheWriterIsBusyAreStoredAsOneGroup()
    {
        var options = Options(workers: 2, problemQueue: 3, treeQueue: 4);
        using var sink = new GatedSink();
        var pipeline = new GenerationPipeline(ScriptedSearch(), sink, options, new ListLogger());

        var running = pipeline.RunAsync([new ProblemListSource("test", Problems(30))], CancellationToken.None);
        await WaitUntil(() => sink.Waiting > 0 && pipeline.TreeQueueDepth == options.TreeQueueCapacity, "the tree queue is full behind a busy writer");
        sink.Open();

        Assert.Equal(PipelineEnd.Completed, (await running).End);
        Assert.Equal(30, sink.Count);
        Assert.Equal(30, sink.Groups.Sum());
        // The writer's next append takes every tree that queued meanwhile, so they share one flush.
        Assert.True(sink.Groups[1] >= options.TreeQueueCapacity, $"groups {string.Join(", ", sink.Groups)}");
        Assert.Equal(30, pipeline.Progress.Snapshot().Completed);
    }

    [Fact]
    public async Task AResumedRunSkipsStoredProblemsAndRetriesFailedOnes()
    {
        var problems = Problems(15);
        await RunOnce(problems.Take(10).ToList(), model: new FailingModel(new ScriptedLanguageModel(SearchKit.TwoBranches()),
            prompt => prompt.Contains("variant p-0)")));

        var (_, progress) = await RunOnce(problems);

        Assert.Equal(9, progress.Skipped);
        Assert.Equal(6, progress.Searched);       // five new problems and the one that failed before
        var (trees, damage) = ReadStore(Run);
        Assert.Empty(damage);
        Assert.Equal(15, trees.Where(t => t.Status == TreeStatus.Completed).Select(t => t.Problem.Id).Distinct().Count());
        Assert.Equal(16, trees.Count);           // the failed tree of the first run stays in the store
    }

    [Fact]
    public void ShardsPartitionAnyProblemList()
    {
        var ids = Enumerable.Range(0, 2000).Select(i => $"gsm8k-{i}").Append("arith-00ff00ff00ff00ff").ToList();
        foreach (var n in new[] { 1, 2, 3, 7 })
        {
            var shards = Enumerable.Range(0, n).Select(i => Shard.Parse($"{i}/{n}")).ToList();
            foreach (var id in ids) Assert.Single(shards, s => s.Contains(id));
            Assert.All(shards, s => Assert.Contains(ids, s.Contains));
        }
        Assert.Equal(Shard.All, Shard.Parse(""));
        foreach (var bad in new[] { "3/3", "1", "-1/2", "a/b", "0/0" }) Assert.Throws<ArgumentException>(() => Shard.Parse(bad));
    }

    [Fact]
    public async Task ShardedRunsShareOneRunFolderAndStoreEachProblemOnce()
    {
        var problems = Problems(30);
        var searched = 0L;
        for (var i = 0; i < 3; i++)
        {
            var (result, progress) = await RunOnce(problems, Options() with { Shard = Shard.Parse($"{i}/3") });
            Assert.Equal(PipelineEnd.Completed, result.End);
            Assert.Equal(0, progress.Skipped);
            searched += progress.Searched;
        }

        var (trees, damage) = ReadStore(Run);
        Assert.Empty(damage);
        Assert.Equal(30, searched);
        Assert.Equal(problems.Select(p => p.Id).Order(), trees.Select(t => t.Problem.Id).Order());
        Assert.Equal(3, Directory.GetFiles(Path.Combine(Run, "trees")).Select(f => f.Split("-shard-")[1]).Distinct().Count());
    }

    [Fact]
    public async Task AFailingBackendGivesFailedTreesAndTheRunGoesOn()
    {
        var problems = Problems(12);
        var model = new FailingModel(new ScriptedLanguageModel(SearchKit.TwoBranches()), prompt => prompt.Contains("variant p-1"));

        var (result, progress) = await RunOnce(problems, model: model);

        Assert.Equal(PipelineEnd.Completed, result.End);
        var (trees, _) = ReadStore(Run);
        var failed = trees.Where(t => t.Status == TreeStatus.Failed).ToList();
        Assert.Equal(["p-1", "p-10", "p-11"], failed.Select(t => t.Problem.Id).Order());
        Assert.All(failed, t => Assert.Contains("backend unreachable", t.Error));
        Assert.Equal(12, trees.Count);
        Assert.Equal(3, progress.Failed);
        Assert.Equal(9, progress.Completed);
    }

    [Fact]
    public async Task AMalformedProblemLineIsNamedAndSkipped()
    {
        var file = Path.Combine(_dir, "problems.jsonl");
        ProblemJsonl.Save(file, Problems(3));
        var lines = File.ReadAllLines(file).ToList();
        lines.Insert(1, """{"id": "broken", "family": "arith", "kind": "Number", "question": "no answer here"}""");
        File.WriteAllLines(file, lines);
        var logger = new ListLogger();
        var progress = new GenerationProgress();
        using var sink = OpenSink(Run);
        var pipeline = new GenerationPipeline(ScriptedSearch(), sink, Options(), new ListLogger(), progress);

        var result = await pipeline.RunAsync([new DatasetFileSource(file, DatasetLoader.AutoFormat, logger, progress)], CancellationToken.None);

        Assert.Equal(PipelineEnd.Completed, result.End);
        Assert.Equal(["p-0", "p-1", "p-2"], ReadStore(Run).Trees.Select(t => t.Problem.Id).Order());
        Assert.Equal(1, progress.Snapshot().InvalidLines);
        Assert.Contains(logger.Lines, l => l.StartsWith("Warning") && l.Contains($"{file}:2: field 'answer'"));
    }

    [Fact]
    public async Task AnUnreadableProblemFileIsNamedAndTheOtherSourcesGoOn()
    {
        var logger = new ListLogger();
        var progress = new GenerationProgress();
        using var sink = OpenSink(Run);
        var pipeline = new GenerationPipeline(ScriptedSearch(), sink, Options(), new ListLogger(), progress);
        var missing = Path.Combine(_dir, "missing.jsonl");

        var result = await pipeline.RunAsync([new DatasetFileSource(missing, DatasetLoader.AutoFormat, logger, progress), new ProblemListSource("list", Problems(2))],
            CancellationToken.None);

        Assert.Equal(PipelineEnd.Completed, result.End);
        Assert.Equal(2, ReadStore(Run).Trees.Count);
        Assert.Contains(logger.Lines, l => l.StartsWith("Error") && l.Contains(missing));
    }

    [Fact]
    public async Task AFullDiskStopsTheRunAndKeepsWhatWasStored()
    {
        var source = new CountingSource(Problems(200));
        using var sink = new DiskFullSink(OpenSink(Run), failAfter: 3);
        var logger = new ListLogger();
        var pipeline = new GenerationPipeline(ScriptedSearch(), sink, Options(), logger);

        var result = await pipeline.RunAsync([source], CancellationToken.None);

        Assert.Equal(PipelineEnd.StoreFailed, result.End);
        Assert.True(result.DiskFull);
        Assert.InRange(source.Taken, 4, 20);      // it stopped taking problems
        var (trees, damage) = ReadStore(Run);
        Assert.Empty(damage);
        Assert.Equal(3, trees.Count);
        Assert.Contains(logger.Lines, l => l.StartsWith("Error") && l.Contains("the disk is full"));
    }

    [Fact]
    public async Task AStopLetsInFlightSearchesFinishWithinTheGracePeriod()
    {
        using var stop = new CancellationTokenSource();
        // The stop comes from the model, as the third problem's search asks its first question: a fixed point, whatever the machine's load.
        var model = new StopAtProblem(new ScriptedLanguageModel(SearchKit.TwoBranches()), "(variant p-2)", stop);
        using var sink = OpenSink(Run);
        var pipeline = new GenerationPipeline(ScriptedSearch(model), sink, Options(), new ListLogger());

        var result = await pipeline.RunAsync([new ProblemListSource("test", Problems(100))], stop.Token);

        Assert.Equal(PipelineEnd.Stopped, result.End);
        var progress = pipeline.Progress.Snapshot();
        Assert.Equal(0, progress.Abandoned);
        var (trees, damage) = ReadStore(Run);
        Assert.Empty(damage);
        Assert.Equal(progress.Searched, trees.Count);
        // Every search that had begun when the stop came finished and was stored, the one that asked for the stop among them;
        // no search began after it.
        Assert.Equal(model.Started.Order(), trees.Select(t => t.Problem.Id).Order());
        Assert.Contains("p-2", model.Started);
        Assert.All(trees, t => Assert.Equal(TreeStatus.Completed, t.Status));
    }

    /// <summary>
    /// Stops the run when a request for the problem whose question holds <paramref name="marker"/> arrives; records every
    /// problem asked about. With <see cref="HoldAfterStop"/>, requests from then on wait until their search is cancelled.
    /// </summary>
    sealed class StopAtProblem(ILanguageModel inner, string marker, CancellationTokenSource stop) : ILanguageModel
    {
        public bool HoldAfterStop { get; init; }

        readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> _started = new();

        public IReadOnlyCollection<string> Started => [.. _started.Keys];

        public string ModelId => inner.ModelId;

        async Task SawAsync(string prompt, CancellationToken cancel)
        {
            var variant = System.Text.RegularExpressions.Regex.Match(prompt, @"\(variant (p-\d+)\)");
            if (variant.Success) _started.TryAdd(variant.Groups[1].Value, true);
            if (prompt.Contains(marker)) await stop.CancelAsync();
            if (HoldAfterStop && stop.IsCancellationRequested) await Task.Delay(Timeout.Infinite, cancel);
        }

        public async Task<IReadOnlyList<Completion>> CompleteAsync(CompletionRequest request, CancellationToken cancel = default)
        {
            await SawAsync(request.Prompt, cancel);
            return await inner.CompleteAsync(request, cancel);
        }

        public async Task<IReadOnlyList<ScoredContinuation>> ScoreAsync(string prompt, IReadOnlyList<string> continuations, CancellationToken cancel = default)
        {
            await SawAsync(prompt, cancel);
            return await inner.ScoreAsync(prompt, continuations, cancel);
        }

        public void Dispose() => inner.Dispose();
    }

    [Fact]
    public async Task PastTheGracePeriodInFlightSearchesAreAbandonedAndSearchedByTheNextRun()
    {
        using var stop = new CancellationTokenSource();
        var model = new StopAtProblem(new ScriptedLanguageModel(SearchKit.TwoBranches()), "(variant p-1)", stop) { HoldAfterStop = true };
        ProgressSnapshot progress;
        using (var sink = OpenSink(Run))
        {
            var pipeline = new GenerationPipeline(ScriptedSearch(model), sink, Options() with { GracePeriod = TimeSpan.Zero }, new ListLogger());
            Assert.Equal(PipelineEnd.Stopped, (await pipeline.RunAsync([new ProblemListSource("test", Problems(20))], stop.Token)).End);
            progress = pipeline.Progress.Snapshot();
        }

        // The search that asked for the stop was in flight, and with no grace it was abandoned, as was any other begun.
        Assert.True(progress.Abandoned >= 1, $"{progress.Abandoned} abandoned");
        Assert.Equal(model.Started.Count, progress.Searched + progress.Abandoned);
        Assert.Equal(progress.Searched, ReadStore(Run).Trees.Count);
        var (_, resumed) = await RunOnce(Problems(20));
        Assert.Equal(progress.Searched, resumed.Skipped);
        Assert.Equal(20, ReadStore(Run).Trees.Select(t => t.Problem.Id).Distinct().Count());
    }
}
