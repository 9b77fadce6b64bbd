using System.Net.Http.Json;
using System.Text.Json;
using Reasoner.Core.Datasets;
using Reasoner.Core.Tasks;
using Reasoner.Tests.Cli;
using static Reasoner.Tests.Pipeline.PipelineKit;

namespace Reasoner.Tests.Pipeline;

/// <summary>
/// <c>serve</c> as a real child process (<c>dotnet Reasoner.dll serve</c>) over the reference backend: stopped with
/// SIGTERM mid-run, it exits 0 with an intact store; restarted, it resumes and stores every problem exactly once.
/// </summary>
[Trait("Category", "Process")]
public sealed class ServeProcessTests : IDisposable
{
    private const int ProblemCount = 30;

    private readonly string _dir = Directory.CreateTempSubdirectory("reasoner-serve-").FullName;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };

    public void Dispose()
    {
        _http.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task SigtermStopsGracefullyAndARestartResumesToEveryProblemExactlyOnce()
    {
        if (OperatingSystem.IsWindows()) return;   // SIGTERM is a POSIX signal
        var problemsFile = Path.Combine(_dir, "problems.jsonl");
        var problems = BuiltinTasks.TestSet(BuiltinTasks.Arith).Take(ProblemCount).ToList();
        ProblemJsonl.Save(problemsFile, problems);
        var runDir = Path.Combine(_dir, "run");
        string[] args = ["serve", "--source", $"file:{problemsFile}", "--out", runDir, "--port", "0", "--model", "reference:0.3:40", "--workers", "2"];

        using (var first = ReasonerProcess.Start(args))
        {
            var url = await first.UrlAsync();
            Assert.Equal("ok", await _http.GetStringAsync($"{url}/health"));
            await WaitUntilAsync(async () => (await StatusAsync(url)).GetProperty("problems").GetProperty("done").GetInt32() >= 3, "three trees are stored");
            var status = await StatusAsync(url);
            Assert.Equal("running", status.GetProperty("state").GetString());
            Assert.Equal(runDir, status.GetProperty("run").GetString());
            Assert.Equal("reference:0.3", status.GetProperty("backend").GetString());
            Assert.Equal(2, status.GetProperty("workers").GetInt32());
            Assert.True(status.GetProperty("queues").GetProperty("problemCapacity").GetInt32() > 0);

            first.Signal("TERM");
            Assert.Equal(0, await first.ExitCodeAsync());
            Assert.Contains("(0 searches abandoned)", first.Log);   // in-flight searches finished within the grace period
        }
        var (stopped, damage) = ReadStore(runDir);
        Assert.Empty(damage);
        Assert.InRange(stopped.Count, 3, ProblemCount - 1);
        Assert.Equal(stopped.Count, stopped.Select(t => t.Problem.Id).Distinct().Count());

        using (var second = ReasonerProcess.Start([.. args, "--exit-when-done"]))
        {
            Assert.Equal(0, await second.ExitCodeAsync());
            Assert.Contains($"resuming: {stopped.Count} problems", second.Log);
        }
        var (all, damageAfter) = ReadStore(runDir);
        Assert.Empty(damageAfter);
        Assert.Equal(problems.Select(p => p.Id).Order(), all.Select(t => t.Problem.Id).Order());
    }

    private async Task<JsonElement> StatusAsync(string url) => await _http.GetFromJsonAsync<JsonElement>($"{url}/status");

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"timed out waiting until {what}");
            await Task.Delay(50);
        }
    }
}
