using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Reasoner.Tests.Cli;

/// <summary>
/// The built executable as a real child process (<c>dotnet Reasoner.dll …</c>), so that signals reach it as they reach a
/// user's: its stdout and stderr collected, the first loopback URL it logs caught, killed if a test leaves it running.
/// </summary>
internal sealed partial class ReasonerProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();
    private readonly StringBuilder _out = new();
    private readonly TaskCompletionSource<string> _url = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ReasonerProcess(Process process) => _process = process;

    public int Id => _process.Id;

    /// <summary>Standard error: the log.</summary>
    public string Log { get { lock (_log) return _log.ToString(); } }

    public string Out { get { lock (_out) return _out.ToString(); } }

    public static ReasonerProcess Start(string[] args, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Reasoner.dll"));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["REASONER_Store__Fsync"] = "false";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        if (workingDirectory is not null) start.WorkingDirectory = workingDirectory;
        var child = new ReasonerProcess(new Process { StartInfo = start });
        child._process.ErrorDataReceived += (_, e) => child.OnLogLine(e.Data);
        child._process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (child._out) child._out.AppendLine(e.Data); };
        child._process.Start();
        child._process.BeginErrorReadLine();
        child._process.BeginOutputReadLine();
        return child;
    }

    /// <summary>The first <c>http://127.0.0.1:PORT</c> the process logs (a server's address).</summary>
    public async Task<string> UrlAsync() => await _url.Task.WaitAsync(TimeSpan.FromMinutes(2));

    /// <summary>Sends a POSIX signal (TERM, INT) as <c>kill</c> does.</summary>
    public void Signal(string name) => Process.Start("kill", $"-{name} {_process.Id}")!.WaitForExit();

    public bool HasExited => _process.HasExited;

    /// <summary>The exit code, waiting up to two minutes: generous, since a loaded machine is slow, and a hang still fails.</summary>
    public async Task<int> ExitCodeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"the process did not exit; its log:\n{Log}");
        }
        return _process.ExitCode;
    }

    /// <summary>Waits until <paramref name="condition"/> holds, polling; fails after two minutes or if the process ends first.</summary>
    public async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (!condition())
        {
            if (_process.HasExited) throw new InvalidOperationException($"the process ended (exit {_process.ExitCode}) before {what}; its log:\n{Log}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"timed out waiting until {what}; its log:\n{Log}");
            await Task.Delay(50);
        }
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
