using Reasoner.Generation;
using Reasoner.Core.Datasets;
using Reasoner.Core.Problems;
using static Reasoner.Tests.Pipeline.PipelineKit;

namespace Reasoner.Tests.Pipeline;

public sealed class WatchedFolderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("reasoner-watch-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Run => Path.Combine(_dir, "run");

    private string Inbox => Path.Combine(_dir, "inbox");

    private string ProcessedLog => Path.Combine(Run, "watched-files.txt");

    /// <summary>Writes a problem file as producers should: under another name, then moved into the folder.</summary>
    private string Drop(string name, IEnumerable<Problem> problems)
    {
        Directory.CreateDirectory(Inbox);
        var temporary = Path.Combine(_dir, name + ".tmp");
        ProblemJsonl.Save(temporary, problems);
        // Files changed within the last second wait for the next look; age this one so the test does not.
        File.SetLastWriteTimeUtc(temporary, DateTime.UtcNow.AddSeconds(-5));
        var path = Path.Combine(Inbox, name);
        File.Move(temporary, path);
        return path;
    }

    private (GenerationPipeline Pipeline, Task<PipelineResult> Running, CancellationTokenSource Stop, TreeStoreSink Sink) Start()
    {
        Directory.CreateDirectory(Run);
        var sink = OpenSink(Run);
        var progress = new GenerationProgress();
        var pipeline = new GenerationPipeline(ScriptedSearch(), sink, Options(), new ListLogger(), progress);
        var source = new WatchedFolderSource(Inbox, ProcessedLog, TimeSpan.FromMilliseconds(200), new ListLogger(), progress);
        var stop = new CancellationTokenSource();
        return (pipeline, pipeline.RunAsync([source], stop.Token), stop, sink);
    }

    [Fact]
    public async Task FilesThatAppearAreSearchedOnceAndRememberedAcrossRestarts()
    {
        var early = Drop("a.jsonl", Problems(3, "a"));
        var (pipeline, running, stop, sink) = Start();
        await WaitUntil(() => pipeline.Progress.Snapshot().Completed == 3, "the first file is searched");
        var late = Drop("b.jsonl", Problems(4, "b"));
        await WaitUntil(() => pipeline.Progress.Snapshot().Completed == 7, "a file dropped later is searched");
        await WaitUntil(() => File.Exists(ProcessedLog) && File.ReadAllLines(ProcessedLog).Length == 2, "both files are recorded");
        stop.Cancel();
        Assert.Equal(PipelineEnd.Stopped, (await running).End);
        sink.Dispose();
        stop.Dispose();
        Assert.Equal([early, late], File.ReadAllLines(ProcessedLog).Order());

        // A restart passes the recorded files by without reading them, and takes a new one.
        var (again, runningAgain, stopAgain, sinkAgain) = Start();
        Drop("c.jsonl", Problems(2, "c"));
        await WaitUntil(() => again.Progress.Snapshot().Completed == 2, "the new file is searched");
        stopAgain.Cancel();
        await runningAgain;
        sinkAgain.Dispose();
        stopAgain.Dispose();
        Assert.Equal(0, again.Progress.Snapshot().Skipped);
        var (trees, damage) = ReadStore(Run);
        Assert.Empty(damage);
        Assert.Equal(9, trees.Select(t => t.Problem.Id).Distinct().Count());
        Assert.Equal(9, trees.Count);
    }
}
