using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Reasoner.Models.Backends;

namespace Reasoner.Cli.Bench;

/// <summary>One llama.cpp timing as <c>bench llama-cpp --json</c> prints it.</summary>
sealed record LlamaCppRun(double PrefillMilliseconds, double DecodeMilliseconds, int NewTokens, int Rows, double TokensPerSecond)
{
    public static LlamaCppRun FromResult(LlamaCppBenchResult r) =>
        new(r.Prefill.TotalMilliseconds, r.Decode.TotalMilliseconds, r.NewTokens, r.Sequences, r.TokensPerSecond);

    public string ToJson() => JsonSerializer.Serialize(this);

    /// <summary>
    /// Times llama.cpp in a child process (<c>bench llama-cpp</c>): in the benchmark's own process, after libtorch had
    /// run, llama.cpp's best one-row rate was 1,267 tokens/s against 2,145 in a process of its own (README), which made
    /// the baseline look weaker than it is.
    /// </summary>
    public static LlamaCppRun Measure(string gguf, IReadOnlyList<int> promptIds, int newTokens, int rows, int threads, int repeats, LlamaCppPrefill prefill)
    {
        var start = new ProcessStartInfo(DotnetHost()) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[]
                 {
                     typeof(LlamaCppRun).Assembly.Location, "bench", "llama-cpp", gguf, "--prompt-ids", string.Join(',', promptIds),
                     "--new-tokens", Invariant(newTokens), "--rows", Invariant(rows), "--threads", Invariant(threads), "--repeat", Invariant(repeats),
                     "--prefill", prefill.ToString(), "--json",
                 })
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {start.FileName}");
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"bench llama-cpp exited with {process.ExitCode}: {error.Result.Trim()}");
        var last = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault()
            ?? throw new InvalidOperationException("bench llama-cpp printed nothing");
        return JsonSerializer.Deserialize<LlamaCppRun>(last) ?? throw new InvalidOperationException($"bench llama-cpp printed '{last}'");
    }

    // The host running this process (dotnet, also under the test host), else the one on the PATH.
    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host
        : Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath! : "dotnet";

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}
