using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Reasoner.Core.Datasets;
using Reasoner.Core.Tasks;
using static Reasoner.Tests.Pipeline.PipelineKit;

namespace Reasoner.Tests.Pipeline;

/// <summary>
/// <c>serve</c> as a real child process (<c>dotnet Reasoner.dll serve</c>) over the reference backend: stopped with
/// SIGTERM mid-run, it exits 0 with an intact store; restarted, it resumes and stores every problem exactly once.
/// </summary>
[Trait("Category", "Process")]
public sealed partial class ServeProcessTests : IDisposable
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

        using (var first = ServeProcess.Start(args))
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

            Process.Start("kill", $"-TERM {first.Id}").WaitForExit();
            Assert.Equal(0, await first.ExitCodeAsync());
            Assert.Contains("(0 searches abandoned)", first.Log);   // in-flight searches finished within the grace period
        }
        var (stopped, damage) = ReadStore(runDir);
        Assert.Empty(damage);
        Assert.InRange(stopped.Count, 3, ProblemCount - 1);
        Assert.Equal(stopped.Count, stopped.Select(t => t.Problem.Id).Distinct().Count());

        using (var second = ServeProcess.Start([.. args, "--exit-when-done"]))
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

    /// <summary>The built executable run with <c>dotnet</c>, its stderr (the log) collected; killed if a test leaves it running.</summary>
    private sealed partial class ServeProcess : IDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _log = new();
        private readonly TaskCompletionSource<string> _url = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private ServeProcess(Process process) => _process = process;

        public int Id => _process.Id;

        public string Log { get { lock (_log) return _log.ToString(); } }

        public static ServeProcess Start(string[] args)
        {
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Reasoner.dll"));
            foreach (var arg in args) start.ArgumentList.Add(arg);
            start.Environment["REASONER_Store__Fsync"] = "false";
            var serve = new ServeProcess(new Process { StartInfo = start });
            serve._process.ErrorDataReceived += (_, e) => serve.OnLogLine(e.Data);
            serve._process.OutputDataReceived += (_, _) => { };
            serve._process.Start();
            serve._process.BeginErrorReadLine();
            serve._process.BeginOutputReadLine();
            return serve;
        }

        public async Task<string> UrlAsync() => await _url.Task.WaitAsync(TimeSpan.FromSeconds(60));

        public async Task<int> ExitCodeAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"serve did not exit; its log:\n{Log}");
            }
            return _process.ExitCode;
        }

        private void OnLogLine(string? line)
        {
            if (line is null) return;
            lock (_log) _log.AppendLine(line);
            if (Url().Match(line) is { Success: true } m) _url.TrySetResult(m.Value);
        }

        public void Dispose()
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.Dispose();
        }

        [GeneratedRegex(@"http://127\.0\.0\.1:\d+")]
        private static partial Regex Url();
    }
}
