using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Reasoner.Generation;
using Reasoner.Core.Problems;
using Reasoner.Core.Storage;
using Reasoner.Core.Trees;
using Reasoner.Models.Backends;
using Reasoner.Search;
using Reasoner.Tests.Search;

namespace Reasoner.Tests.Pipeline;

/// <summary>Problems, a small scripted search and test doubles for the pipeline tests.</summary>
internal static class PipelineKit
{
    /// <summary>Problems the scripted two-branch policy can solve (it reads only the steps, so any question will do).</summary>
    public static IReadOnlyList<Problem> Problems(int count, string prefix = "p") =>
        [.. Enumerable.Range(0, count).Select(i => new Problem($"{prefix}-{i}", "arith", $"What is 2x if x = 2? (variant {prefix}-{i})", "4", AnswerKind.Number))];

    public static MonteCarloTreeSearch ScriptedSearch(ILanguageModel? model = null) =>
        new(model ?? new ScriptedLanguageModel(SearchKit.TwoBranches()), SearchKit.PromptFiles,
            new MctsSettings { World = SearchKit.World, Iterations = 1, RootIterationMultiplier = 2 });

    public static PipelineOptions Options(int workers = 2, int problemQueue = 2, int treeQueue = 2) => new()
    {
        Workers = workers,
        ProblemQueueCapacity = problemQueue,
        TreeQueueCapacity = treeQueue,
        GracePeriod = TimeSpan.FromSeconds(30),
    };

    public static TreeStoreSink OpenSink(string runDirectory, string? writerId = null) =>
        TreeStoreSink.Open(runDirectory, new TreeStoreWriterOptions { WriterId = writerId }, new ListLogger());

    public static (List<PreferenceTree> Trees, List<StoreDamage> Damage) ReadStore(string runDirectory)
    {
        var damage = new List<StoreDamage>();
        var trees = TreeStore.Open(runDirectory).ReadAll(damage.Add).ToList();
        return (trees, damage);
    }

    public static async Task WaitUntil(Func<bool> condition, string what, double seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"timed out waiting until {what}");
            await Task.Delay(20);
        }
    }
}

/// <summary>Collects log lines, to check what the pipeline says about skipped lines and failures.</summary>
internal sealed class ListLogger : ILogger
{
    private readonly List<string> _lines = [];

    public IReadOnlyList<string> Lines { get { lock (_lines) return [.. _lines]; } }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_lines) _lines.Add($"{logLevel}: {formatter(state, exception)}");
    }
}

/// <summary>A list source that counts how many problems the pipeline has pulled from it.</summary>
internal sealed class CountingSource(IReadOnlyList<Problem> problems) : IProblemSource
{
    private int _taken;

    public string Name => "counting";

    public int Taken => Volatile.Read(ref _taken);

    public async IAsyncEnumerable<ProblemItem> ReadAsync([EnumeratorCancellation] CancellationToken cancel)
    {
        foreach (var problem in problems)
        {
            await Task.Yield();
            Interlocked.Increment(ref _taken);
            yield return new ProblemItem(problem);
        }
    }
}

/// <summary>A sink in memory whose appends wait at a gate, as a slow disk would; it records the size of each group appended.</summary>
internal sealed class GatedSink : ITreeSink
{
    private readonly SemaphoreSlim _gate = new(0);
    private readonly List<PreferenceTree> _trees = [];
    private readonly List<int> _groups = [];
    private volatile int _waiting;

    public int Count { get { lock (_trees) return _trees.Count; } }

    /// <summary>Sizes of the groups appended so far, the one waiting at the gate included.</summary>
    public IReadOnlyList<int> Groups { get { lock (_trees) return [.. _groups]; } }

    /// <summary>Trees in the append that waits at the gate now (0 when none waits).</summary>
    public int Waiting => _waiting;

    public void Open() => _gate.Release(int.MaxValue / 2);

    public IReadOnlySet<string> StoredProblemIds() => new HashSet<string>();

    public void Append(PreferenceTree tree) => Append([tree]);

    public void Append(IReadOnlyList<PreferenceTree> trees)
    {
        lock (_trees) _groups.Add(trees.Count);
        _waiting = trees.Count;
        _gate.Wait();
        _waiting = 0;
        lock (_trees) _trees.AddRange(trees);
    }

    public void Flush() { }

    public void Dispose() => _gate.Dispose();
}

/// <summary>Passes appends to a real store until <c>failAfter</c> trees, then fails as a full disk does (ENOSPC).</summary>
internal sealed class DiskFullSink(ITreeSink inner, int failAfter) : ITreeSink
{
    private int _appended;

    public IReadOnlySet<string> StoredProblemIds() => inner.StoredProblemIds();

    public void Append(PreferenceTree tree)
    {
        if (_appended == failAfter) throw new IOException("No space left on device", 28);
        inner.Append(tree);
        _appended++;
    }

    public void Flush() => inner.Flush();

    public void Dispose() => inner.Dispose();
}

/// <summary>A backend in front of another that fails, after its own retries, for the questions <c>fails</c> picks.</summary>
internal sealed class FailingModel(ILanguageModel inner, Func<string, bool> fails) : ILanguageModel
{
    public string ModelId => inner.ModelId;

    public Task<IReadOnlyList<Completion>> CompleteAsync(CompletionRequest request, CancellationToken cancel = default) =>
        fails(request.Prompt) ? throw new HttpRequestException("backend unreachable after 3 attempts") : inner.CompleteAsync(request, cancel);

    public Task<IReadOnlyList<ScoredContinuation>> ScoreAsync(string prompt, IReadOnlyList<string> continuations, CancellationToken cancel = default) =>
        inner.ScoreAsync(prompt, continuations, cancel);

    public void Dispose() => inner.Dispose();
}