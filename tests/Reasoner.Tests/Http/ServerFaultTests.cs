using Reasoner.Core.Storage;
using Reasoner.Core.Trees;
using Reasoner.Tests.Cli;
using Reasoner.Tests.Generation;

namespace Reasoner.Tests.Http;

/// <summary>
/// generate through serve-model while the server is killed (SIGKILL) and started again: the run finishes on the client's
/// retries, the problems whose retries ran out are stored as failed trees, and the next run searches them again.
/// </summary>
public sealed class ServerFaultTests : IClassFixture<TinyCheckpoint>, IDisposable
{
    readonly TinyCheckpoint checkpoint;
    readonly string root = Directory.CreateTempSubdirectory("reasoner-fault-").FullName;

    public ServerFaultTests(TinyCheckpoint checkpoint) => this.checkpoint = checkpoint;

    public void Dispose() => Directory.Delete(root, recursive: true);

    ReasonerProcess StartServer(int port) => ReasonerProcess.Start(["serve-model", "--model", checkpoint.Path, "--port", port.ToString()]);

    static async Task WaitHealthyAsync(int port, ReasonerProcess server)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        await server.WaitUntilAsync(() =>
        {
            try { return http.GetAsync($"http://127.0.0.1:{port}/health").GetAwaiter().GetResult().IsSuccessStatusCode; }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { return false; }
        }, "the server answered /health");
    }

    [Fact]
    public async Task A_server_killed_mid_run_costs_only_the_problems_in_flight_and_the_next_run_redoes_them()
    {
        var port = ScriptedHttpServer.FreePort();
        var run = Path.Combine(root, "run");
        // Enough problems that the run is still going when the server is killed: with 12, a fast machine once stored the
        // last tree between the poll that saw two and the kill, and nothing failed; with 40, so did an idle machine
        // running the whole suite (a tree of this tiny model takes milliseconds, and a loaded thread pool can delay the poll).
        const int problems = 200;
        string[] generate = ["generate", "--model", $"http://127.0.0.1:{port}", "--algo", "best-first", "--problems", $"{problems}", "--workers", "1",
            "--iterations", "2", "--actions", "2", "--rollouts", "1", "--max-step-tokens", "6", "--depth-limit", "2", "--out", run];

        var first = ReasonerProcess.Start(["serve-model", "--model", checkpoint.Path, "--port", port.ToString()]);
        await WaitHealthyAsync(port, first);
        using var searching = ReasonerProcess.Start(generate);
        // Mid-run: some trees stored, more to come.
        await searching.WaitUntilAsync(() => Stored(run).Count >= 2, "two trees were stored");
        first.Signal("KILL");
        await first.ExitCodeAsync();
        first.Dispose();
        // Down past the client's retries (4, backing off 1, 2, 4, 8 s): the problem in flight fails.
        await Task.Delay(TimeSpan.FromSeconds(20));
        using var second = StartServer(port);
        await WaitHealthyAsync(port, second);
        Assert.True(await searching.ExitCodeAsync() == 0, searching.Log);

        var trees = Stored(run);
        var failed = trees.Where(t => t.Status == TreeStatus.Failed).Select(t => t.Problem.Id).ToHashSet();
        Assert.NotEmpty(failed);
        Assert.All(trees.Where(t => t.Status == TreeStatus.Failed), t => Assert.Contains("127.0.0.1", t.Error));
        Assert.Equal(problems, trees.Select(t => t.Problem.Id).Distinct().Count());

        // The same command again searches only the failed problems.
        var again = await CliRunner.Run(generate);
        Assert.True(again.ExitCode == 0, again.Err + again.Out);
        var completed = Stored(run).Where(t => t.Status == TreeStatus.Completed).Select(t => t.Problem.Id).ToList();
        Assert.Equal(problems, completed.Count);
        Assert.Superset(failed, completed.ToHashSet());
    }

    static List<PreferenceTree> Stored(string run) =>
        Directory.Exists(Path.Combine(run, TreeStore.TreesFolderName)) ? [.. TreeStore.Open(run).ReadAll(_ => { })] : [];
}
