using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Reasoner.Core.Trees;
using Reasoner.Search;

namespace Reasoner.Generation;

public sealed record PipelineOptions
{
    /// <summary>Search workers, all sharing the one search algorithm and model.</summary>
    public int Workers { get; init; } = 2;

    public int ProblemQueueCapacity { get; init; } = 8;

    public int TreeQueueCapacity { get; init; } = 8;

    /// <summary>After a stop, in-flight searches may finish within this time; then they are abandoned.</summary>
    public TimeSpan GracePeriod { get; init; } = TimeSpan.FromSeconds(10);

    public Shard Shard { get; init; } = Shard.All;

    /// <summary>When no tree arrives for this long, the writer flushes what it holds (the store's flush interval); null: never.</summary>
    public TimeSpan? IdleFlushAfter { get; init; }

    public void Validate()
    {
        if (Workers < 1) throw new ArgumentException($"workers must be at least 1, not {Workers}");
        if (ProblemQueueCapacity < 1 || TreeQueueCapacity < 1) throw new ArgumentException("queue capacities must be at least 1");
        if (GracePeriod < TimeSpan.Zero) throw new ArgumentException("the grace period must not be negative");
    }
}

public enum PipelineEnd
{
    /// <summary>Every source was exhausted and every problem taken was stored.</summary>
    Completed,

    /// <summary>Stopped from outside; what was stored is intact, problems not stored are searched by the next run.</summary>
    Stopped,

    /// <summary>The store failed (a full disk, say): the run stopped taking problems; records written before are intact.</summary>
    StoreFailed,
}

public sealed record PipelineResult(PipelineEnd End, Exception? StoreError = null)
{
    public bool DiskFull => StoreError is not null && StoreErrors.IsDiskFull(StoreError);
}

/// <summary>
/// The generator: sources → bounded channel of problems → W search workers → bounded channel of trees → one store
/// writer. Both channels are bounded, so a slow writer stalls the workers and slow workers stall the sources; nothing
/// queues without limit. A stop closes the sources and the workers take no new problem; in-flight searches get
/// <see cref="PipelineOptions.GracePeriod"/> to finish and are then abandoned; the writer stores every finished tree
/// and flushes. A store failure stops everything at once. Problems already stored, and repeats, are skipped.
/// </summary>
public sealed class GenerationPipeline
{
    private readonly ISearchAlgorithm _search;
    private readonly ITreeSink _sink;
    private readonly ILogger _logger;
    private readonly Channel<ProblemItem> _problems;
    private readonly Channel<FinishedTree> _trees;
    private readonly HashSet<string> _claimed = new(StringComparer.Ordinal);
    // Stored trees whose sources wait to hear it, told after the next flush; the writer's alone.
    private readonly List<(Action<bool> Settled, bool Completed)> _unsettled = [];
    private int _started;

    public GenerationPipeline(ISearchAlgorithm search, ITreeSink sink, PipelineOptions options, ILogger logger,
        GenerationProgress? progress = null, ProblemsInFlight? inFlight = null)
    {
        options.Validate();
        _search = search;
        _sink = sink;
        _logger = logger;
        Options = options;
        Progress = progress ?? new GenerationProgress();
        InFlight = inFlight ?? new ProblemsInFlight();
        _problems = Channel.CreateBounded<ProblemItem>(new BoundedChannelOptions(options.ProblemQueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
        });
        _trees = Channel.CreateBounded<FinishedTree>(new BoundedChannelOptions(options.TreeQueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });
    }

    public PipelineOptions Options { get; }

    public GenerationProgress Progress { get; }

    public ProblemsInFlight InFlight { get; }

    public int ProblemQueueDepth => _problems.Reader.Count;

    public int TreeQueueDepth => _trees.Reader.Count;

    /// <summary>Runs until the sources are exhausted and everything taken is stored, or until <paramref name="stop"/>. Runs once.</summary>
    public async Task<PipelineResult> RunAsync(IReadOnlyList<IProblemSource> sources, CancellationToken stop)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0) throw new InvalidOperationException("a pipeline runs once");
        var stored = _sink.StoredProblemIds();
        if (stored.Count > 0) _logger.LogInformation("resuming: {Count} problems already have a completed tree in this run and are skipped", stored.Count);
        _claimed.UnionWith(stored);

        using var taking = CancellationTokenSource.CreateLinkedTokenSource(stop);
        using var abandon = new CancellationTokenSource();
        using var grace = stop.Register(() => abandon.CancelAfter(Options.GracePeriod));

        var writer = Task.Run(() => WriteTreesAsync(taking, abandon));
        var workers = Enumerable.Range(0, Options.Workers).Select(_ => Task.Run(() => SearchProblemsAsync(taking.Token, abandon.Token))).ToArray();
        await Task.WhenAll(sources.Select(source => Task.Run(() => TakeProblemsAsync(source, taking.Token))));
        _problems.Writer.Complete();
        await Task.WhenAll(workers);
        _trees.Writer.Complete();
        var storeError = await writer;

        if (storeError is not null) return new PipelineResult(PipelineEnd.StoreFailed, storeError);
        return new PipelineResult(stop.IsCancellationRequested ? PipelineEnd.Stopped : PipelineEnd.Completed);
    }

    private async Task TakeProblemsAsync(IProblemSource source, CancellationToken taking)
    {
        try
        {
            await foreach (var item in source.ReadAsync(taking).WithCancellation(taking))
            {
                if (!Options.Shard.Contains(item.Problem.Id))
                {
                    item.Settled?.Invoke(true);
                    continue;
                }
                if (!Claim(item.Problem.Id))
                {
                    Progress.Skipped();
                    item.Settled?.Invoke(true);
                    continue;
                }
                await _problems.Writer.WriteAsync(item, taking);
            }
        }
        catch (OperationCanceledException) when (taking.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            // One broken source must not end a service fed by others.
            _logger.LogError(e, "problem source {Source} failed; the other sources go on", source.Name);
        }
    }

    private bool Claim(string problemId)
    {
        lock (_claimed) return _claimed.Add(problemId);
    }

    private async Task SearchProblemsAsync(CancellationToken taking, CancellationToken abandon)
    {
        try
        {
            await foreach (var item in _problems.Reader.ReadAllAsync(taking))
            {
                if (!await SearchAsync(item, abandon)) return;
            }
        }
        catch (OperationCanceledException) when (taking.IsCancellationRequested)
        {
        }
    }

    /// <summary>Searches one problem and hands its tree to the writer; false when the search was abandoned.</summary>
    private async Task<bool> SearchAsync(ProblemItem item, CancellationToken abandon)
    {
        InFlight.Add(item.Problem);
        try
        {
            // A backend failure comes back as a failed tree (ISearchAlgorithm's contract), so only cancellation throws.
            var tree = await _search.SearchAsync(item.Problem, abandon);
            await _trees.Writer.WriteAsync(new FinishedTree(tree, item), abandon);
            return true;
        }
        catch (OperationCanceledException) when (abandon.IsCancellationRequested)
        {
            Progress.Abandoned();
            _logger.LogInformation("abandoned the search of {Problem}; the next run searches it again", item.Problem.Id);
            return false;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Searches report failures as failed trees; one that throws anyway must not take a worker down with it.
            Progress.Abandoned();
            _logger.LogError(e, "the search of {Problem} threw instead of returning a failed tree; it is not stored", item.Problem.Id);
            return true;
        }
        finally
        {
            InFlight.Remove(item.Problem);
        }
    }

    /// <summary>The one writer: stores trees until the workers are done, then flushes. Returns the store's error, if it failed.</summary>
    private async Task<Exception?> WriteTreesAsync(CancellationTokenSource taking, CancellationTokenSource abandon)
    {
        var reader = _trees.Reader;
        var batch = new List<FinishedTree>();
        var unflushed = false;
        try
        {
            while (true)
            {
                // Everything queued is stored as one group, so trees that finished while the last flush ran share the next.
                batch.Clear();
                while (reader.TryRead(out var finished)) batch.Add(finished);
                if (batch.Count > 0)
                {
                    Store(batch);
                    unflushed = true;
                }
                // A source told that a problem is settled may act on it (a queue acknowledges it): only once it is on disk.
                if (_unsettled.Count > 0)
                {
                    _sink.Flush();
                    unflushed = false;
                    SettleStored();
                }
                // Not cancellable: after a stop the writer still drains every tree the workers finish.
                var more = reader.WaitToReadAsync().AsTask();
                // The store's time-based flush only runs on an append; an idle writer applies it here.
                if (unflushed && Options.IdleFlushAfter is { } idle && await Task.WhenAny(more, Task.Delay(idle)) != more)
                {
                    _sink.Flush();
                    unflushed = false;
                }
                if (!await more) break;
            }
            _sink.Flush();
            SettleStored();
            return null;
        }
        catch (IOException e)
        {
            _logger.LogError("{Problem}: the run stops taking problems; the trees stored before are intact",
                StoreErrors.IsDiskFull(e) ? $"the disk is full ({e.Message})" : $"the tree store failed: {e.Message}");
            taking.Cancel();
            abandon.Cancel();
            return e;
        }
    }

    private void Store(List<FinishedTree> batch)
    {
        _sink.Append(batch.ConvertAll(f => f.Tree));
        foreach (var finished in batch)
        {
            var tree = finished.Tree;
            Progress.TreeStored(tree);
            if (tree.Status == TreeStatus.Failed)
                _logger.LogWarning("search of {Problem} failed, recorded as a failed tree: {Error}", tree.Problem.Id, tree.Error);
            if (tree.Status == TreeStatus.Failed && finished.Item.Failed is { } failed)
            {
                failed(tree.Error ?? "the search failed");
                lock (_claimed) _claimed.Remove(tree.Problem.Id);
            }
            if (finished.Item.Settled is { } settled) _unsettled.Add((settled, tree.Status == TreeStatus.Completed));
        }
    }

    private void SettleStored()
    {
        foreach (var (settled, completed) in _unsettled) settled(completed);
        _unsettled.Clear();
    }

    private sealed record FinishedTree(PreferenceTree Tree, ProblemItem Item);
}
