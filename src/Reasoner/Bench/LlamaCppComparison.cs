using Reasoner.Models;
using Reasoner.Models.Backends;
using Reasoner.Models.Gguf;
using Reasoner.Models.Tokenization;
using Spectre.Console;

namespace Reasoner.Cli.Bench;

/// <summary>
/// Reasoner's engine against llama.cpp on the same weights (exported to a temporary F32 GGUF), the same prompt
/// token ids and the same number of new tokens per row, EOS ignored on both sides. llama.cpp decodes greedily; for k
/// rows it is given its best way to make siblings (prefill once, copy the sequence's cache to k − 1 others with
/// <c>llama_memory_seq_cp</c>, decode in one batch), and the naive way (k copies of the prompt prefilled) is shown
/// beside it, labelled. Reasoner samples at temperature 1 and forks one prefill. Both sides count generated tokens
/// over wall time with prefill included, and both report their fastest run; the ratio is against llama.cpp's best.
/// llama.cpp runs at one thread and at one per core, and its faster count stands (Reasoner's engine picks its threads
/// per forward, so the baseline gets its own best choice too), each in a process of its own (<see cref="LlamaCppRun.Measure"/>).
/// </summary>
static class LlamaCppComparison
{
    public static void Print(IAnsiConsole console, CausalLanguageModel model, HfTokenizer tokenizer, IReadOnlyList<int> promptIds,
        int newTokens, int k, int repeats, BenchResult reasonerOneRow, BenchResult reasonerSiblings)
    {
        var gguf = Path.Combine(Path.GetTempPath(), $"reasoner-bench-{Guid.NewGuid():N}.gguf");
        try
        {
            using (var file = File.Create(gguf))
                GgufExporter.CreateWriter(model, tokenizer, new GgufExportOptions { Name = "reasoner-bench" }).Write(file);
            var table = new Table()
                .Title("Reasoner vs llama.cpp (same weights as GGUF F32, same prompt ids and lengths)")
                .AddColumns("rows", "Reasoner tokens/s", "llama.cpp tokens/s (prefill once, seq_cp)", "llama.cpp tokens/s (prefill per row)", "Reasoner / llama.cpp best");
            foreach (var column in table.Columns.Skip(1)) column.RightAligned();
            foreach (var (rows, reasoner) in new[] { (1, reasonerOneRow), (k, reasonerSiblings) })
            {
                var (shared, sharedThreads) = Fastest(gguf, promptIds, newTokens, rows, repeats, LlamaCppPrefill.Shared);
                var (perRow, perRowThreads) = rows == 1 ? (shared, sharedThreads) : Fastest(gguf, promptIds, newTokens, rows, repeats, LlamaCppPrefill.PerSequence);
                var best = Math.Max(shared.TokensPerSecond, perRow.TokensPerSecond);
                double ours = reasoner.Tokens / reasoner.Fastest.TotalSeconds;
                table.AddRow(rows.ToString(), $"{ours:0.0}", $"{shared.TokensPerSecond:0.0} ({Threads(sharedThreads)})",
                    rows == 1 ? "(same)" : $"{perRow.TokensPerSecond:0.0} ({Threads(perRowThreads)})", $"{ours / best:0.00}×");
            }
            console.Write(table);
        }
        finally
        {
            File.Delete(gguf);
        }
    }

    /// <summary>llama.cpp's faster run of one thread and of one thread per core.</summary>
    private static (LlamaCppRun Result, int Threads) Fastest(string gguf, IReadOnlyList<int> promptIds, int newTokens, int rows, int repeats, LlamaCppPrefill prefill) =>
        new[] { 1, Environment.ProcessorCount }.Distinct()
            .Select(threads => (Result: LlamaCppRun.Measure(gguf, promptIds, newTokens, rows, threads, repeats, prefill), Threads: threads))
            .MaxBy(r => r.Result.TokensPerSecond);

    private static string Threads(int count) => count == 1 ? "1 thread" : $"{count} threads";
}
