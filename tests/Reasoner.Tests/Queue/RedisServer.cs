using System.Diagnostics;
using Reasoner.Tests.Http;
using StackExchange.Redis;

namespace Reasoner.Tests.Queue;

/// <summary>
/// A real <c>redis-server</c> (Debian's package; <c>.ci/run</c> installs it) on a free loopback port, appending every write
/// to its log before answering (<c>--appendonly yes --appendfsync always</c>) in a temporary folder, so that a restart
/// keeps everything. Stopped, and its folder removed, on dispose.
/// </summary>
public sealed class RedisServer : IDisposable
{
    public const string Executable = "/usr/bin/redis-server";

    readonly string folder = Directory.CreateTempSubdirectory("reasoner-redis-").FullName;
    Process? process;

    public RedisServer()
    {
        if (!File.Exists(Executable))
            throw new InvalidOperationException($"{Executable} not found: the queue tests need Debian's redis-server (apt-get install redis-server; .ci/run installs it)");
        Port = ScriptedHttpServer.FreePort();
        Start();
    }

    public int Port { get; }

    public string Queue(string name) => $"redis://127.0.0.1:{Port}/{name}";

    public void Start()
    {
        var start = new ProcessStartInfo(Executable) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "--port", Port.ToString(), "--bind", "127.0.0.1", "--dir", folder, "--appendonly", "yes", "--appendfsync", "always",
                     "--save", "", "--daemonize", "no", "--protected-mode", "yes" })
            start.ArgumentList.Add(arg);
        process = Process.Start(start)!;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                using var probe = ConnectionMultiplexer.Connect($"127.0.0.1:{Port},abortConnect=true,connectTimeout=1000");
                if (probe.GetDatabase().Ping() >= TimeSpan.Zero) return;
            }
            catch (RedisConnectionException) when (DateTime.UtcNow < deadline && !process.HasExited)
            {
                Thread.Sleep(100);
            }
        }
    }

    /// <summary>Stops the server as an operator's restart does (SIGTERM: it finishes its append-only log first).</summary>
    public void Stop()
    {
        if (process is null || process.HasExited) return;
        Process.Start("kill", $"-TERM {process.Id}")!.WaitForExit();
        if (!process.WaitForExit(30_000)) process.Kill();
        process.Dispose();
        process = null;
    }

    public IDatabase Connect(out ConnectionMultiplexer connection)
    {
        connection = ConnectionMultiplexer.Connect($"127.0.0.1:{Port}");
        return connection.GetDatabase();
    }

    public void Dispose()
    {
        if (process is { HasExited: false }) process.Kill();
        process?.Dispose();
        Directory.Delete(folder, recursive: true);
    }
}
