using System.CommandLine;
using System.Globalization;
using Reasoner.Cli.Bench;
using Reasoner.Cli.Hosting;
using Reasoner.Models;
using Reasoner.Models.Checkpoints;
using Reasoner.Models.Generation;
using Reasoner.Models.Tokenization;
using Spectre.Console;

namespace Reasoner.Cli.Commands;

/// <summary><c>bench generate</c>: tokens/s and peak memory of the generation engine's paths against naive ones.</summary>
static class BenchCommand
{
    /// <summary>Where the trained built-in model is committed, relative to the repository root.</summary>
    private static readonly string BuiltinModelFolder = Path.Combine("models", "builtin");

    public static Command Create(CliContext context) =>
        new("bench", "Measure parts of the system.") { Generate(context) };

    private static Command Generate(CliContext context)
    {
        var model = new Option<string?>("--model") { Description = $"A Hugging Face model folder. Default: the built-in model ({BuiltinModelFolder}/ in the repository) when it exists." };
        var random = new Option<bool>("--random") { Description = "Use a random-weight model of the built-in model's scale (6 layers, 256 channels, byte-level BPE from the built-in tasks, 1024-row vocabulary) instead of a checkpoint." };
        var promptTokens = new Option<int>("--prompt-tokens") { Description = "Prompt length in tokens.", DefaultValueFactory = _ => 256 };
        var newTokens = new Option<int>("--new-tokens") { Description = "Tokens generated per row.", DefaultValueFactory = _ => 64 };
        var k = new Option<int>("--k") { Description = "Siblings per request (the N of a search node's expansion).", DefaultValueFactory = _ => 8 };
        var seed = new Option<int>("--seed") { Description = "Sampling seed (and the random model's weights).", DefaultValueFactory = _ => context.Settings.Seed };
        var repeat = new Option<int>("--repeat") { Description = "Timed runs per variant, baseline and contender taking turns; the median counts.", DefaultValueFactory = _ => 5 };
        var threads = new Option<int?>("--threads") { Description = "libtorch intra-op threads. Default: libtorch's own (one per core)." };
        var command = new Command("generate",
            "Generation throughput: full recompute vs KV cache (1 row), and k siblings one request at a time vs one batched request " +
            "with prefix forking. Prints tokens/s, peak memory (rise of the process's resident set) and speed-ups.")
        {
            model, random, promptTokens, newTokens, k, seed, repeat, threads,
        };
        command.SetAction(async (parse, cancel) =>
        {
            int prompt = Positive(parse, promptTokens), generated = Positive(parse, newTokens), siblings = Positive(parse, k), repeats = Positive(parse, repeat);
            var device = TorchRuntime.ParseDevice(context.Settings.Device);
            if (parse.GetValue(threads) is { } threadCount) TorchSharp.torch.set_num_threads(threadCount > 0 ? threadCount : throw new UserError($"--threads must be positive, not {threadCount}"));
            var (engineModel, tokenizer, modelId) = OpenModel(parse.GetValue(model), parse.GetValue(random), device, parse.GetValue(seed));
            using (engineModel)
            {
                // No prefix cache: every variant pays for its own prompts, and repeats do not get faster by reusing them.
                using var engine = new TorchEngine(engineModel, tokenizer, modelId, new TorchEngineOptions { PrefixCacheTokens = 0, IgnoreEndOfSequence = true });
                string promptText = BenchText.Prompt(tokenizer, prompt, parse.GetValue(seed));
                var bench = new GenerationBench(engine, promptText, siblings, parse.GetValue(seed));
                PrintSetup(context.Console, engine, tokenizer.Encode(promptText).Length, generated, siblings, repeats, context.Settings.Device);

                var table = new Table().AddColumns("comparison", "variant", "tokens", "seconds", "fastest–slowest", "tokens/s", "peak memory (MiB)", "speed-up");
                foreach (var column in table.Columns.Skip(2)) column.RightAligned();
                foreach (var comparison in bench.Comparisons())
                {
                    cancel.ThrowIfCancellationRequested();
                    var (baseline, contender) = await GenerationBench.Measure(comparison, generated, repeats);
                    double speedUp = contender.TokensPerSecond / baseline.TokensPerSecond;
                    string verdict = comparison.TargetSpeedUp is { } target ? $" (target ≥ {target:0.#}×: {(speedUp >= target ? "met" : "missed")})" : "";
                    table.AddRow(Row(comparison.Name, comparison.Baseline.Name, baseline, "1.00×"));
                    table.AddRow(Row("", comparison.Contender.Name, contender, $"{speedUp:0.00}×{verdict}"));
                }
                context.Console.Write(table);
                context.Console.WriteLine(PeakMemory.IsAvailable
                    ? "peak memory: highest resident set (VmHWM) above the resident set at the start of a run, largest over the runs"
                    : "peak memory: not measured on this platform (needs Linux /proc/self/status)");
                return 0;
            }
        });
        return command;
    }

    private static (CausalLanguageModel Model, ITextTokenizer Tokenizer, string Id) OpenModel(string? folder, bool random, TorchSharp.torch.Device device, int seed)
    {
        if (random && folder is not null) throw new UserError("pass either --model or --random, not both");
        if (random)
        {
            var (model, tokenizer) = RandomModel.Create(device, seed);
            return (model, tokenizer, $"random-weights-{model.Config.NumHiddenLayers}x{model.Config.HiddenSize}");
        }
        folder ??= BuiltinModel() ?? throw new UserError($"no model: pass --model DIR, or --random for random weights ({BuiltinModelFolder}/ does not exist yet)");
        if (!File.Exists(Path.Combine(folder, "config.json"))) throw new UserError($"{folder} is not a model folder (no config.json)");
        var checkpoint = CheckpointLoader.Load(folder, device);
        return (checkpoint.Model, checkpoint.Tokenizer, Path.TrimEndingDirectorySeparator(folder));
    }

    private static string? BuiltinModel()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Reasoner.sln")))
                {
                    var folder = Path.Combine(dir.FullName, BuiltinModelFolder);
                    return File.Exists(Path.Combine(folder, "config.json")) ? folder : null;
                }
        return null;
    }

    private static void PrintSetup(IAnsiConsole console, TorchEngine engine, int promptTokens, int newTokens, int k, int repeats, string device)
    {
        var c = engine.Model.Config;
        console.MarkupLineInterpolated($"model: {engine.ModelId} ({c.ModelType}, {c.NumHiddenLayers} layers, hidden {c.HiddenSize}, {c.NumAttentionHeads} heads / {c.NumKeyValueHeads} KV heads, vocabulary {c.VocabSize}, {engine.Model.ParameterCount() / 1e6:0.0}M parameters, fp32)");
        console.MarkupLineInterpolated($"device: {device}, {TorchSharp.torch.get_num_threads()} threads; prompt {promptTokens} tokens; {newTokens} new tokens per row (EOS ignored); k = {k}; temperature 1; median of {repeats} runs after a warm-up");
    }

    private static string[] Row(string comparison, string variant, BenchResult result, string speedUp) =>
    [
        Markup.Escape(comparison), Markup.Escape(variant),
        result.Tokens.ToString(CultureInfo.InvariantCulture),
        result.Median.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture),
        string.Create(CultureInfo.InvariantCulture, $"{result.Fastest.TotalSeconds:0.000}–{result.Slowest.TotalSeconds:0.000}"),
        result.TokensPerSecond.ToString("0.0", CultureInfo.InvariantCulture),
        result.PeakBytes is { } bytes ? (bytes / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture) : "n/a",
        Markup.Escape(speedUp),
    ];

    private static int Positive(ParseResult parse, Option<int> option)
    {
        int value = parse.GetValue(option);
        return value > 0 ? value : throw new UserError($"{option.Name} must be positive, not {value}");
    }
}
