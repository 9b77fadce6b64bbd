using System.Net;
using System.Text.Json;
using Reasoner.Core.Datasets;
using Reasoner.Core.Tasks;
using Reasoner.Tests.Generation;
using Reasoner.Training;
using static Reasoner.Tests.Pipeline.PipelineKit;

namespace Reasoner.Tests.Cli;

/// <summary>
/// What the README promises about signals, on real processes: generate and train dpo exit 143 on SIGTERM having saved what
/// they say, a second Ctrl-C ends generate at once, serve-model stops on SIGTERM, and serve's /status and /health say what
/// the README says they say, 503 while stopping included.
/// </summary>
[Trait("Category", "Process")]
public sealed class SignalProcessTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("reasoner-signals-").FullName;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public void Dispose()
    {
        _http.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private static int StoredTrees(string run) => Directory.Exists(Path.Combine(run, "trees")) ? ReadStore(run).Trees.Count : 0;

    [Fact]
    public async Task GenerateExitsWith143OnSigtermWithEveryStoredTreeIntactAndTheSameCommandResumes()
    {
        if (OperatingSystem.IsWindows()) return;
        var run = Path.Combine(_dir, "run");
        string[] args = ["generate", "--model", "reference:0.3:40", "--problems", "30", "--workers", "2", "--out", run];

        using (var first = ReasonerProcess.Start(args))
        {
            await first.WaitUntilAsync(() => StoredTrees(run) >= 2, "two trees are stored");
            first.Signal("TERM");
            Assert.Equal(143, await first.ExitCodeAsync());
            Assert.Contains("stopping: no new problems", first.Log);
        }
        var (stopped, damage) = ReadStore(run);
        Assert.Empty(damage);
        Assert.InRange(stopped.Count, 2, 29);

        using var second = ReasonerProcess.Start(args);
        Assert.Equal(0, await second.ExitCodeAsync());
        var (all, _) = ReadStore(run);
        Assert.Equal(30, all.Count);
        Assert.Equal(30, all.Select(t => t.Problem.Id).Distinct().Count());
    }

    [Fact]
    public async Task ASecondSignalEndsGenerateAtOnceInsteadOfWaitingOutTheGracePeriod()
    {
        if (OperatingSystem.IsWindows()) return;
        var run = Path.Combine(_dir, "slow");
        // Every model call takes 3 s and in-flight searches may run on for 10 minutes: only the second signal can end this soon.
        // SIGTERM stands for Ctrl-C here (both go through the same handler): a test run started in the background, as CI
        // may start it, hands its children SIGINT ignored.
        using var process = ReasonerProcess.Start(["generate", "--model", "reference:0:3000", "--problems", "10", "--workers", "2", "--grace-period", "600", "--out", run]);
        // The first progress line (10 s in) means the workers have taken their problems: a signal before that could find
        // nothing in flight, and generate would then stop at once, cleanly, before the second signal (seen on a loaded CI run).
        await process.WaitUntilAsync(() => process.Log.Contains("progress:"), "the searches are under way");

        process.Signal("TERM");
        await process.WaitUntilAsync(() => process.Log.Contains("stopping: no new problems"), "the first signal is taken");
        process.Signal("TERM");

        Assert.Equal(143, await process.ExitCodeAsync());
        Assert.DoesNotContain("stopped: the trees stored so far are intact", process.Log); // it did not wait for the grace period
    }

    [Fact]
    public async Task TrainDpoExitsWith143OnSigtermWithACheckpointThatResumes()
    {
        if (OperatingSystem.IsWindows()) return;
        using var checkpoint = new TinyCheckpoint();
        var env = new Dictionary<string, string> { ["REASONER_RunsDir"] = _dir };
        using (var generate = ReasonerProcess.Start(["generate", "--model", "reference:0.5", "--problems", "12", "--iterations", "4"], env))
            Assert.Equal(0, await generate.ExitCodeAsync());
        var outDir = Path.Combine(_dir, "dpo");
        var log = Path.Combine(outDir, TrainingLog.FileName);
        string[] train = ["train", "dpo", "mcts-arith", "--model", checkpoint.Path, "--out", outDir, "--max-length", "4096", "--batch", "1", "--epochs", "2000", "--eval-fraction", "0"];

        using (var process = ReasonerProcess.Start(train, env))
        {
            await process.WaitUntilAsync(() => File.Exists(log) && File.ReadAllLines(log).Length >= 3, "three steps are logged");
            process.Signal("TERM");
            Assert.Equal(143, await process.ExitCodeAsync());
            Assert.Contains("continues with --resume", process.Out);
        }
        Assert.True(TrainingCheckpoint.Exists(Path.Combine(outDir, "checkpoint")), "SIGTERM saves a checkpoint");
        Assert.False(File.Exists(Path.Combine(outDir, "config.json")), "no model is saved from a stopped run");
        int saved = TrainingCheckpoint.ReadProgress(Path.Combine(outDir, "checkpoint")).Step;
        Assert.True(saved >= 3, $"checkpoint at step {saved}");

        // The checkpoint continues: a resumed run picks up at its step (and is stopped again, so as not to run 2,000 epochs).
        using var resumed = ReasonerProcess.Start([.. train, "--resume"], env);
        await resumed.WaitUntilAsync(() => resumed.Out.Contains($"resumed from") , "the run resumes");
        resumed.Signal("TERM");
        Assert.Equal(143, await resumed.ExitCodeAsync());
        Assert.Contains($"at step {saved}", resumed.Out);
    }

    [Fact]
    public async Task ServeModelStopsOnSigterm()
    {
        if (OperatingSystem.IsWindows()) return;
        using var checkpoint = new TinyCheckpoint();
        using var process = ReasonerProcess.Start(["serve-model", "--model", checkpoint.Path, "--port", "0"]);
        var url = new Uri(await process.UrlAsync());
        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync(new Uri(url, "/health"))).StatusCode);

        process.Signal("TERM");

        Assert.Equal(0, await process.ExitCodeAsync());
        Assert.Contains("stopped", process.Log);
    }

    [Fact]
    public async Task ServesStatusHoldsEveryDocumentedFieldAndHealthIs503WhileStopping()
    {
        if (OperatingSystem.IsWindows()) return;
        var problems = Path.Combine(_dir, "problems.jsonl");
        ProblemJsonl.Save(problems, BuiltinTasks.TestSet(BuiltinTasks.Arith).Take(20).ToList());
        // Slow model calls and a long grace period: the service stays in its stopping state long enough to be asked.
        using var process = ReasonerProcess.Start(["serve", "--source", $"file:{problems}", "--out", Path.Combine(_dir, "serve"), "--port", "0",
            "--model", "reference:0.3:1500", "--workers", "2", "--grace-period", "600"]);
        var url = new Uri(await process.UrlAsync());
        await process.WaitUntilAsync(() => Status(url).GetProperty("problems").GetProperty("inFlight").GetInt32() > 0, "searches are in flight");

        var status = Status(url);
        var expected = new (string Field, JsonValueKind[] Kinds)[]
        {
            ("state", [JsonValueKind.String]), ("uptimeSeconds", [JsonValueKind.Number]), ("run", [JsonValueKind.String]),
            ("backend", [JsonValueKind.String]), ("algorithm", [JsonValueKind.String]), ("workers", [JsonValueKind.Number]),
            ("shard", [JsonValueKind.Null, JsonValueKind.String]), ("sources", [JsonValueKind.Array]), ("problems", [JsonValueKind.Object]),
            ("nodes", [JsonValueKind.Number]), ("treesPerMinute", [JsonValueKind.Number]), ("nodesPerSecond", [JsonValueKind.Number]),
            ("correctPathShare", [JsonValueKind.Number, JsonValueKind.Null]), ("etaSeconds", [JsonValueKind.Number, JsonValueKind.Null]),
            ("queues", [JsonValueKind.Object]), ("workQueues", [JsonValueKind.Array]),
        };
        Assert.Equal(expected.Select(e => e.Field).Order(), status.EnumerateObject().Select(p => p.Name).Order());
        foreach (var (field, kinds) in expected) Assert.Contains(status.GetProperty(field).ValueKind, kinds);
        Assert.Equal(["abandoned", "completed", "done", "failed", "inFlight", "invalidLines", "skipped"], status.GetProperty("problems").EnumerateObject().Select(p => p.Name).Order());
        Assert.All(status.GetProperty("problems").EnumerateObject(), p => Assert.Equal(JsonValueKind.Number, p.Value.ValueKind));
        Assert.Equal(["problemCapacity", "problems", "treeCapacity", "trees"], status.GetProperty("queues").EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal("running", status.GetProperty("state").GetString());

        process.Signal("TERM");
        await process.WaitUntilAsync(() => Status(url).GetProperty("state").GetString() == "stopping", "the service is stopping");
        var health = await _http.GetAsync(new Uri(url, "/health"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        Assert.Equal("stopping", await health.Content.ReadAsStringAsync());

        process.Signal("TERM"); // the second signal ends it at once
        await process.ExitCodeAsync();
    }

    private JsonElement Status(Uri url) => JsonDocument.Parse(_http.GetStringAsync(new Uri(url, "/status")).GetAwaiter().GetResult()).RootElement.Clone();
}
