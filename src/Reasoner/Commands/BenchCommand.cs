using System.CommandLine;
using System.Globalization;
using Reasoner.Cli.Bench;
using Reasoner.Generation;
using Reasoner.Core.Prompts;
using Reasoner.Core.Tasks;
using Reasoner.Search;
using Reasoner.Cli.Hosting;
using Reasoner.Models;
using Reasoner.Models.Checkpoints;
using Reasoner.Models.Generation;
using Reasoner.Models.Tokenization;
using Reasoner.Models.Backends;
using Spectre.Console;

namespace Reasoner.Cli.Commands;

/// <summary>
/// <c>bench generate</c>: tokens/s and peak memory of the generation engine's paths against naive ones.
/// <c>bench search</c>: trees/min and nodes/s of the generator, and the search yield against greedy decoding.
/// </summary>
static class BenchCommand
{
    public static Command Create(CliContext context) =>
        new("bench", "Measure parts of the system.") { Generate(context), Search(context), Train(context), View(context), Serve(context), Store(context), LlamaCpp(context) };

    /// <summary>
    /// <c>bench llama-cpp</c>: llama.cpp alone on a GGUF file, greedy, as <c>bench generate</c>'s baseline runs it (in a
    /// process of its own, so that libtorch's threads in the same process cannot slow it; <see cref="LlamaCppComparison"/>).
    /// </summary>
    private static Command LlamaCpp(CliContext context)
    {
        var gguf = new Argument<string>("gguf") { Description = "The GGUF file." };
        var promptIds = new Option<string>("--prompt-ids") { Description = "The prompt's token ids, comma-separated.", Required = true };
        var newTokens = new Option<int>("--new-tokens") { Description = "Tokens decoded per sequence (EOS ignored).", DefaultValueFactory = _ => 64 };
        var rows = new Option<int>("--rows") { Description = "Sequences decoded together.", DefaultValueFactory = _ => 1 };
        var threads = new Option<int>("--threads") { Description = "llama.cpp's threads.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var repeat = new Option<int>("--repeat") { Description = "Timed runs after a warm-up; the fastest counts.", DefaultValueFactory = _ => 5 };
        var prefill = new Option<LlamaCppPrefill>("--prefill") { Description = "Shared: prefill once and copy the cache to every sequence (seq_cp); PerSequence: the prompt prefilled once per sequence.", DefaultValueFactory = _ => LlamaCppPrefill.Shared };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of a line of text." };
        var command = new Command("llama-cpp", "llama.cpp's greedy generation speed on a GGUF file with given prompt token ids: prefill, decode and tokens/s (bench generate's baseline).")
        {
            gguf, promptIds, newTokens, rows, threads, repeat, prefill, json,
        };
        command.SetAction(parse =>
        {
            var file = parse.GetValue(gguf)!;
            if (!File.Exists(file)) throw new UserError($"GGUF file not found: {file}");
            var ids = new List<int>();
            foreach (var id in parse.GetValue(promptIds)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                ids.Add(int.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out int value) ? value : throw new UserError($"--prompt-ids: '{id}' is not a token id"));
            if (ids.Count == 0) throw new UserError("--prompt-ids names no token");
            var result = LlamaCppBench.MeasureTokensPerSecond(file, ids, Positive(parse, newTokens), Positive(parse, rows),
                new Models.Backends.LlamaCppOptions { Threads = Positive(parse, threads) }, Positive(parse, repeat), parse.GetValue(prefill));
            context.Output.WriteLine(parse.GetValue(json)
                ? LlamaCppRun.FromResult(result).ToJson()
                : $"prefill {result.Prefill.TotalMilliseconds:0.0} ms, decode {result.Decode.TotalMilliseconds / result.NewTokens:0.000} ms per step, {result.TokensPerSecond:0.0} tokens/s");
            return 0;
        });
        return command;
    }

    private static Command Store(CliContext context)
    {
        var trees = new Option<int>("--trees") { Description = "Trees written and read.", DefaultValueFactory = _ => 2000 };
        var nodes = new Option<int>("--nodes") { Description = "Nodes per tree (the default generate run's MCTS trees on arith hold about 16).", DefaultValueFactory = _ => 16 };
        var command = new Command("store",
            "Tree store throughput: trees the size of the default generate run's written one at a time as generate flushes them (every tree, fsync), " +
            "through generate's own pipeline and writer when trees queue faster than an fsync takes (a flush + fsync per group queued), flushed without fsync, " +
            "and flushed once at the end, then read back; trees/s and MB/s side by side, with the ratio to one tree per fsync.")
        {
            trees, nodes,
        };
        command.SetAction(parse =>
        {
            int count = Positive(parse, trees), size = Positive(parse, nodes);
            IReadOnlyList<StoreBenchResult> results = [];
            context.Console.Status().Start("writing", status => results = StoreBench.Run(count, size, text => status.Status(Markup.Escape(text))));
            var table = new Table().AddColumns("store", "trees", "trees per flush", "MB", "seconds", "trees/s", "MB/s", "× one tree per fsync");
            foreach (var column in table.Columns.Skip(1)) column.RightAligned();
            foreach (var r in results)
                table.AddRow(Markup.Escape(r.Case), Invariant(r.Trees), r.Groups is { } groups ? Invariant(r.Trees / (double)groups, "0.0") : "", Invariant(r.Bytes / 1048576.0, "0.0"),
                    Invariant(r.Elapsed.TotalSeconds, "0.00"), Invariant(r.TreesPerSecond, "0"), Invariant(r.MegabytesPerSecond, "0.0"),
                    Invariant(r.TreesPerSecond / results[0].TreesPerSecond, "0.0") + "×");
            context.Console.Write(table);
            var pipeline = results.Single(r => r.Groups is not null);
            context.Console.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                $"[grey]{size} nodes per tree, {results[0].Bytes / (double)count:0} bytes per tree on disk; generate's writer stores the trees it finds queued as one group with one flush + fsync: one tree per fsync while searches are slower than an fsync, groups once they are not[/]");
            context.Console.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                $"store writes through generate's pipeline: {pipeline.TreesPerSecond:0} trees/s (target ≥ 10,000: {(pipeline.TreesPerSecond >= 10_000 ? "met" : "missed")})");
            return 0;
        });
        return command;
    }

    private static Command Serve(CliContext context)
    {
        var model = new Option<string?>("--model") { Description = "A Hugging Face model folder to serve. Default: the built-in model." };
        var clients = new Option<int>("--clients") { Description = "Concurrent clients, each sending one request after another.", DefaultValueFactory = _ => 64 };
        var seconds = new Option<int>("--seconds") { Description = "How long the load runs.", DefaultValueFactory = _ => 60 };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Token limit of the valid requests.", DefaultValueFactory = _ => 16 };
        var maxQueued = new Option<int>("--max-queued") { Description = "The server's bound on requests in it at once (serve-model --max-queued).", DefaultValueFactory = _ => 256 };
        var bound = new Option<int>("--memory-bound") { Description = "MiB the resident memory may rise above its level after warm-up; above it the bench fails.", DefaultValueFactory = _ => 512 };
        var threads = new Option<int>("--threads") { Description = "libtorch intra-op threads.", DefaultValueFactory = _ => 2 };
        var command = new Command("serve",
            "Load on serve-model: concurrent clients on loopback for a while, two in three requests valid and the rest bad (n past --max-n, an empty prompt, a token limit " +
            "past the context, broken JSON). Prints answers by kind and status (only 200, 400 and 429 are acceptable), p50 and p99 latency of the answered requests, " +
            "resident memory against its level after warm-up, and whether the server stayed up; exits 1 when any of those fails.")
        {
            model, clients, seconds, maxTokens, maxQueued, bound, threads,
        };
        command.SetAction(async (parse, cancel) =>
        {
            int clientCount = Positive(parse, clients), duration = Positive(parse, seconds);
            TorchSharp.torch.set_num_threads(Positive(parse, threads));
            var folder = parse.GetValue(model) ?? BuiltinModel.Locate();
            using var engine = TorchEngine.Load(folder, TorchRuntime.ParseDevice(context.Settings.Device));
            context.Console.MarkupLineInterpolated($"serving {folder} (context {engine.ContextLength} tokens) to {clientCount} clients for {duration} s; --max-queued {parse.GetValue(maxQueued)}");
            ServeLoadResult result = null!;
            await context.Console.Status().StartAsync("starting", async status =>
                result = await ServeLoadBench.RunAsync(engine, clientCount, TimeSpan.FromSeconds(duration), Positive(parse, maxTokens), Positive(parse, maxQueued),
                    text => status.Status(Markup.Escape(text)), cancel));

            var table = new Table().AddColumns("request", "status", "answers");
            table.Columns[2].RightAligned();
            foreach (var ((kind, code), count) in result.Counts.OrderBy(c => c.Key.Kind == "valid" ? 0 : 1).ThenBy(c => c.Key.Kind).ThenBy(c => c.Key.Status))
                table.AddRow(Markup.Escape(kind), code == 0 ? "[red]no answer[/]" : code is 200 or 400 or 429 ? Invariant(code) : $"[red]{code}[/]", Invariant(count));
            context.Console.Write(table);
            var rise = (result.EndRssBytes - result.WarmRssBytes) / 1048576.0;
            var peakRise = (result.PeakRssBytes - result.WarmRssBytes) / 1048576.0;
            var total = result.Counts.Values.Sum();
            context.Console.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                $"{total} answers in {result.Elapsed.TotalSeconds:0.0} s ({total / result.Elapsed.TotalSeconds:0.0}/s); valid answered: p50 {ServeLoadBench.Percentile(result.ValidLatencyMs, 0.5):0} ms, p99 {ServeLoadBench.Percentile(result.ValidLatencyMs, 0.99):0} ms");
            context.Console.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                $"resident memory: {result.WarmRssBytes / 1048576.0:0} MiB after warm-up, peak {result.PeakRssBytes / 1048576.0:0} MiB (+{peakRise:0}), {result.EndRssBytes / 1048576.0:0} MiB at the end (+{rise:0}); bound +{parse.GetValue(bound)} MiB");
            context.Console.MarkupLine(result.Healthy ? "server: [green]up[/] (GET /health 200 after the load)" : "server: [red]down[/]");
            var failed = result.Unexpected > 0 || !result.Healthy || peakRise > parse.GetValue(bound);
            if (result.Unexpected > 0) context.Console.MarkupLineInterpolated($"[red]{result.Unexpected} answers other than 200, 400 or 429[/]");
            return failed ? 1 : 0;
        });
        return command;
    }

    private static Command View(CliContext context)
    {
        var sizes = new Option<string>("--sizes") { Description = "Tree sizes in nodes, comma-separated; the first is the baseline of the ratios.", DefaultValueFactory = _ => "1000,10000" };
        var repeats = new Option<int>("--repeats") { Description = "Timed page loads per size (after one untimed); the medians are printed.", DefaultValueFactory = _ => 5 };
        var command = new Command("view",
            "How fast the run viewer's tree page draws large trees in headless Chromium (Debian's chromium, or REASONER_CHROMIUM): seeded synthetic " +
            "trees of each size served by view, the time from navigation to the first drawn frame, a collapse and re-expand, and a redraw of every node.")
        {
            sizes, repeats,
        };
        command.SetAction(async (parse, cancel) =>
        {
            var wanted = parse.GetValue(sizes)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(x => int.TryParse(x, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 2 ? n : throw new UserError($"--sizes: '{x}' is not a node count of 2 or more"))
                .ToList();
            if (wanted.Count == 0) throw new UserError("--sizes names no size");
            int count = Positive(parse, repeats);
            IReadOnlyList<ViewBenchResult> results = [];
            await context.Console.Status().StartAsync("starting Chromium", async status =>
                results = await ViewBench.RunAsync(wanted, count, PromptFolder.Open(context.Settings), text => status.Status(Markup.Escape(text)), cancel));
            var table = new Table().AddColumns("nodes", "tree JSON (KiB)", "first render (ms)", "× baseline", "collapse + expand (ms)", "draw all nodes (ms)");
            foreach (var column in table.Columns) column.RightAligned();
            foreach (var r in results)
                table.AddRow(Invariant(r.Nodes), Invariant(r.JsonBytes / 1024.0, "0"), Invariant(r.FirstRenderMs, "0"), Invariant(r.FirstRenderMs / results[0].FirstRenderMs, "0.00") + "×",
                    Invariant(r.ToggleMs, "0.0"), Invariant(r.FitAllMs, "0.0"));
            context.Console.Write(table);
            context.Console.MarkupLineInterpolated($"[grey]medians of {count} loads after one untimed; first render: navigation start to the first drawn frame (fetch, parse, layout, draw); baseline: the {results[0].Nodes:N0}-node tree[/]");
            return 0;
        });
        return command;
    }

    private static Command Train(CliContext context)
    {
        var model = new Option<string?>("--model") { Description = "A Hugging Face model folder. Default: the built-in model." };
        var problems = new Option<int>("--problems") { Description = "Test problems (half arith, half logic) whose reference and corrupted solutions make the examples.", DefaultValueFactory = _ => 128 };
        var batch = new Option<int>("--batch") { Description = "Examples per step: sequences for pretraining, pairs, lists or groups for the trainers.", DefaultValueFactory = _ => 8 };
        var threads = new Option<int>("--threads") { Description = "libtorch intra-op threads (the matmul peak is measured with the same).", DefaultValueFactory = _ => 2 };
        var command = new Command("train",
            "Optimizer-step throughput of pretraining and of every trainer (step-level DPO, TPO, TRPA, ONPO, the Tree-PLV verifier, OREO) on one model, in one run: tokens/s, model FLOP/s " +
            "(6·N per token plus attention, real tokens only) and their share of an fp32 matmul peak measured in the same run with the same threads (bf16's peak for pretraining in mixed precision). " +
            "Reference passes and collation are not timed.")
        {
            model, problems, batch, threads,
        };
        command.SetAction(parse =>
        {
            int examples = Positive(parse, problems), perStep = Positive(parse, batch), threadCount = Positive(parse, threads);
            TorchSharp.torch.set_num_threads(threadCount);
            TorchSharp.torch.manual_seed(context.Settings.Seed);
            var device = TorchRuntime.ParseDevice(context.Settings.Device);
            var directory = parse.GetValue(model) ?? BuiltinModel.Locate();
            var bench = new TrainingBench(directory, device, PromptFolder.Open(context.Settings), examples, context.Settings.Seed);
            double peak = Reasoner.Training.TrainingFlops.MeasureMatmulPeak(device);
            double bf16Peak = Reasoner.Training.TrainingFlops.MeasureMatmulPeak(device, dtype: TorchSharp.torch.ScalarType.BFloat16);
            context.Console.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                $"{directory}: {bench.Examples} problems' reference solutions with 3 corrupted copies each, {perStep} examples per step, {threadCount} threads on {device}; fp32 matmul peak {peak / 1e9:0.0} GFLOP/s, bf16 {bf16Peak / 1e9:0.0}");
            var table = new Table().AddColumn("method").AddColumn(new TableColumn("steps").RightAligned()).AddColumn(new TableColumn("tokens/s").RightAligned())
                .AddColumn(new TableColumn("model GFLOP/s").RightAligned()).AddColumn(new TableColumn("share of peak").RightAligned()).AddColumn(new TableColumn("vs pretraining").RightAligned());
            var rows = new List<TrainingBenchRow>();
            foreach (var run in new Func<int, TrainingBenchRow>[] { bench.Pretraining, bench.PretrainingBf16, bench.Dpo, bench.Tpo, bench.Trpa, bench.Onpo, bench.Plv, bench.Oreo })
            {
                var row = run(perStep);
                rows.Add(row);
                table.AddRow(row.Method, row.Steps.ToString(CultureInfo.InvariantCulture), row.TokensPerSecond.ToString("N0", CultureInfo.InvariantCulture),
                    (row.FlopsPerSecond / 1e9).ToString("0.0", CultureInfo.InvariantCulture), (row.FlopsPerSecond / (row.Bf16 ? bf16Peak : peak)).ToString("P0", CultureInfo.InvariantCulture) + (row.Bf16 ? " (bf16)" : ""),
                    (row.FlopsPerSecond / rows[0].FlopsPerSecond).ToString("0.00", CultureInfo.InvariantCulture) + "×");
            }
            context.Console.Write(table);
            return 0;
        });
        return command;
    }

    private static Command Generate(CliContext context)
    {
        var model = new Option<string?>("--model") { Description = $"A Hugging Face model folder. Default: the built-in model ({BuiltinModel.RelativePath}/ in the repository) when it exists." };
        var random = new Option<bool>("--random") { Description = "Use a random-weight model of the built-in model's scale (6 layers, 256 channels, byte-level BPE from the built-in tasks, 1024-row vocabulary) instead of a checkpoint." };
        var promptTokens = new Option<int>("--prompt-tokens") { Description = "Prompt length in tokens.", DefaultValueFactory = _ => 256 };
        var newTokens = new Option<int>("--new-tokens") { Description = "Tokens generated per row.", DefaultValueFactory = _ => 64 };
        var k = new Option<int>("--k") { Description = "Siblings per request (the N of a search node's expansion).", DefaultValueFactory = _ => 8 };
        var seed = new Option<int>("--seed") { Description = "Sampling seed (and the random model's weights).", DefaultValueFactory = _ => context.Settings.Seed };
        var repeat = new Option<int>("--repeat") { Description = "Timed runs per variant, baseline and contender taking turns; the median counts.", DefaultValueFactory = _ => 5 };
        var threads = new Option<int?>("--threads") { Description = "libtorch intra-op threads of the engine's forwards past 16 tokens (smaller ones, and every other thread, run on one). Default: libtorch's own (one per core)." };
        var dtype = Dtype();
        var llamaCpp = new Option<bool>("--llama-cpp")
        {
            Description = "Also export the same weights to GGUF and time llama.cpp (LLamaSharp) on the same prompt tokens and lengths, 1 row and k rows.",
            DefaultValueFactory = _ => true,
        };
        var profile = new Option<bool>("--profile")
        {
            Description = "Instead of the comparisons: profile decoding by phase (milliseconds per forward, with 1 thread and with --threads or " +
                "libtorch's default), beside the time the forward's arithmetic takes at a matmul peak in the weights' dtype and its weights take to read at a copy bandwidth, both measured with the same threads.",
        };
        var profileRows = new Option<int>("--profile-rows")
        {
            Description = "With --profile: rows decoded together, as one request of prefix-forked siblings (1: one row, the KV-cache case; k: the forked siblings).",
            DefaultValueFactory = _ => 1,
        };
        var command = new Command("generate",
            "Generation throughput: full recompute vs KV cache (1 row), and k siblings one request at a time vs one batched request " +
            "with prefix forking. Prints tokens/s, peak memory (rise of the process's resident set) and speed-ups.")
        {
            model, random, promptTokens, newTokens, k, seed, repeat, threads, dtype, llamaCpp, profile, profileRows,
        };
        command.SetAction(async (parse, cancel) =>
        {
            int prompt = Positive(parse, promptTokens), generated = Positive(parse, newTokens), siblings = Positive(parse, k), repeats = Positive(parse, repeat), profiled = Positive(parse, profileRows);
            if (profiled != 1 && !parse.GetValue(profile)) throw new UserError("--profile-rows applies to --profile only");
            var device = TorchRuntime.ParseDevice(context.Settings.Device);
            if (parse.GetValue(threads) is { } threadCount) TorchSharp.torch.set_num_threads(threadCount > 0 ? threadCount : throw new UserError($"--threads must be positive, not {threadCount}"));
            // On a thread of its own, as generate loads its model (IntraOpThreads.OnThreadOfItsOwn).
            var (engineModel, tokenizer, modelId) = IntraOpThreads.OnThreadOfItsOwn(() => OpenModel(parse.GetValue(model), parse.GetValue(random), device, parse.GetValue(seed), TorchRuntime.ParseDtype(parse.GetValue(dtype)!)));
            using (engineModel)
            {
                // No prefix cache: every variant pays for its own prompts, and repeats do not get faster by reusing them.
                using var engine = new TorchEngine(engineModel, tokenizer, modelId, new TorchEngineOptions { PrefixCacheTokens = 0, IgnoreEndOfSequence = true });
                string promptText = BenchText.Prompt(tokenizer, prompt, parse.GetValue(seed));
                var bench = new GenerationBench(engine, promptText, siblings, parse.GetValue(seed));
                PrintSetup(context.Console, engine, tokenizer.Encode(promptText).Length, generated, siblings, repeats, context.Settings.Device);
                if (parse.GetValue(profile))
                {
                    var profiles = new List<DecodeProfileResult>();
                    foreach (var t in new[] { 1, TorchSharp.torch.get_num_threads() }.Distinct())
                        profiles.Add(await DecodeProfile.RunWithSkeletonAsync(engine, promptText, profiled, generated, repeats, t, parse.GetValue(seed)));
                    PrintProfile(context.Console, profiles);
                    return 0;
                }

                var table = new Table().AddColumns("comparison", "variant", "tokens", "seconds", "fastest–slowest", "tokens/s", "peak memory (MiB)", "speed-up");
                foreach (var column in table.Columns.Skip(2)) column.RightAligned();
                var contenders = new List<BenchResult>();
                foreach (var comparison in bench.Comparisons())
                {
                    cancel.ThrowIfCancellationRequested();
                    var (baseline, contender) = await GenerationBench.Measure(comparison, generated, repeats);
                    contenders.Add(contender);
                    double speedUp = contender.TokensPerSecond / baseline.TokensPerSecond;
                    string verdict = comparison.TargetSpeedUp is { } target ? $" (target ≥ {target:0.#}×: {(speedUp >= target ? "met" : "missed")})" : "";
                    table.AddRow(Row(comparison.Name, comparison.Baseline.Name, baseline, "1.00×"));
                    table.AddRow(Row("", comparison.Contender.Name, contender, $"{speedUp:0.00}×{verdict}"));
                }
                context.Console.Write(table);
                context.Console.WriteLine(PeakMemory.IsAvailable
                    ? "peak memory: highest resident set (VmHWM) above the resident set at the start of a run, largest over the runs"
                    : "peak memory: not measured on this platform (needs Linux /proc/self/status)");
                if (parse.GetValue(llamaCpp))
                {
                    cancel.ThrowIfCancellationRequested();
                    LlamaCppComparison.Print(context.Console, engineModel, tokenizer, tokenizer.Encode(promptText), generated, siblings, repeats,
                        reasonerOneRow: contenders[0], reasonerSiblings: contenders[1]);
                }
                return 0;
            }
        });
        return command;
    }

    private static void PrintProfile(IAnsiConsole console, IReadOnlyList<DecodeProfileResult> profiles)
    {
        int rows = profiles[0].Rows;
        var table = new Table().AddColumns($"phase of a decoding forward ({rows} row{(rows > 1 ? "s" : "")})");
        foreach (var p in profiles) table.AddColumns($"ms/forward, {p.Threads} thread{(p.Threads > 1 ? "s" : "")}", "share");
        foreach (var column in table.Columns.Skip(1)) column.RightAligned();
        string[] Cells(Func<DecodeProfileResult, double> ms) =>
            [.. profiles.SelectMany(p => new[] { Invariant(ms(p), "0.000"), Invariant(100 * ms(p) / p.TotalMilliseconds, "0.0") + " %" })];
        foreach (var phase in DecodeProfile.Phases)
            table.AddRow([Markup.Escape(phase), .. Cells(p => p.MillisecondsPerForward.GetValueOrDefault(phase))]);
        // Top-level phases only: the indented ones are inside the attention block.
        table.AddRow(["between phases (the loop's bookkeeping)", .. Cells(p => p.TotalMilliseconds - DecodeProfile.Phases.Where(x => !x.StartsWith(' ')).Sum(x => p.MillisecondsPerForward.GetValueOrDefault(x)))]);
        table.AddRow(["[bold]whole forward[/]", .. Cells(p => p.TotalMilliseconds)]);
        table.AddRow([rows > 1 ? "the forward's FLOPs at the matmul peak" : "the token's FLOPs at the matmul peak", .. Cells(p => p.ComputeMilliseconds)]);
        table.AddRow(["the weights read once at the copy bandwidth", .. Cells(p => p.WeightReadMilliseconds)]);
        table.AddRow(["the same calls with heads 2 wide (their cost alone)", .. Cells(p => p.SkeletonMilliseconds ?? double.NaN)]);
        table.AddRow(["floor: the calls plus the weights read", .. Cells(p => (p.SkeletonMilliseconds ?? double.NaN) + p.WeightReadMilliseconds)]);
        console.Write(table);
        foreach (var p in profiles)
            console.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                $"[grey]{p.Threads} thread(s): {p.Forwards} decoding forwards of {p.Rows} row(s) recorded; {p.TokensPerSecond:0} tokens/s; {p.FlopsPerForward / 1e6:0.0} MFLOP per forward at {p.PeakFlops / 1e9:0.0} GFLOP/s = {p.ComputeMilliseconds:0.000} ms; {p.WeightBytes / 1048576:0.0} MiB of weights at {p.BytesPerSecond / 1e9:0.0} GB/s copied = {p.WeightReadMilliseconds:0.000} ms; the same forward with heads 2 wide and an MLP 8 wide (the same libtorch calls, almost no arithmetic) {p.SkeletonMilliseconds:0.000} ms, so at most {p.Rows * 1e3 / ((p.SkeletonMilliseconds ?? double.NaN) + p.WeightReadMilliseconds):0} tokens/s without fewer calls[/]");
    }

    private static Command Search(CliContext context)
    {
        var model = new Option<string?>("--model") { Description = $"A Hugging Face model folder. Default: the built-in model ({BuiltinModel.RelativePath}/)." };
        var task = new Option<string>("--task", "-t") { Description = "Built-in task whose fixed test set is searched.", DefaultValueFactory = _ => BuiltinTasks.Arith };
        task.AcceptOnlyFromAmong([.. BuiltinTasks.Names]);
        var problems = new Option<int>("--problems", "-n") { Description = "The first N problems of the test set; every configuration searches the same ones.", DefaultValueFactory = _ => 30 };
        var algorithms = new Option<string>("--algos") { Description = "Search algorithms, comma-separated.", DefaultValueFactory = _ => $"{MonteCarloTreeSearch.AlgorithmName},{BestFirstSearch.AlgorithmName}" };
        var iterations = new Option<int?>("--iterations") { Description = "mcts: simulations per committed step; best-first: most expansions (default: the algorithm's)." };
        var actions = new Option<int?>("--actions", "-k") { Description = "Steps sampled per expansion (default: the algorithm's)." };
        var rollouts = new Option<int?>("--rollouts") { Description = "best-first: Monte Carlo roll-outs per step (default: the algorithm's)." };
        var depthLimit = new Option<int?>("--depth-limit") { Description = "Most steps in a solution (default 12)." };
        var maxStepTokens = new Option<int?>("--max-step-tokens") { Description = "Token limit of one step (default 128)." };
        var oversampling = new Option<int?>("--oversampling") { Description = "Samples drawn per wanted step, keeping the first k distinct (default: as generate: the Generate settings', else the model folder's reasoner.json, else 1).", DefaultValueFactory = _ => context.Settings.Generate.Search.Oversampling };
        var seed = new Option<int>("--seed") { Description = "Seed of every search.", DefaultValueFactory = _ => context.Settings.Seed };
        var threads = new Option<int>("--threads") { Description = "libtorch intra-op threads of the engine's forwards past 16 tokens (smaller ones, and every other thread, run on one).", DefaultValueFactory = _ => 2 };
        var dtype = Dtype();
        var smallForward = new Option<int>("--small-forward-tokens") { Description = "Forwards feeding at most this many tokens run on one thread (the engine's setting; 0: every forward on --threads).", DefaultValueFactory = _ => new TorchEngineOptions().SmallForwardTokens };
        var replicas = new Option<int?>("--replicas") { Description = "Loops of the batched engine over the one set of weights, each batching the requests routed to it (1: one engine on --threads). Default: as generate, one per worker up to one per core for a model of at most 20M matrix weights on a CPU." };
        var yieldOnly = new Option<bool>("--yield-only") { Description = "Run only the generator's own configuration (forking and batching, 1 worker): the search yield on more problems in less time, no speed comparison." };
        var paths = new Option<string>("--paths") { Description = "Engine paths to time, comma-separated: unbatched (one row per call, no prefix cache), one-at-a-time (forking, one request at a time), batched (forking + batching across requests). The first timed is the baseline of the speed-up and same-trees columns.", DefaultValueFactory = _ => "unbatched,one-at-a-time,batched" };
        var profile = new Option<bool>("--profile") { Description = "Also record where each forward's time goes in every configuration (the engine's and the model's phases, every forward: prefills, decoding and scoring) and print milliseconds per forward by phase, side by side." };
        var workers = new Option<string>("--workers", "-w") { Description = "Worker counts to time the forking engine with, comma-separated; the first is the one the others are compared with.", DefaultValueFactory = _ => "1,4" };
        var verifier = new Option<string?>("--verifier") { Description = "A step verifier (a train plv folder, or a serve-model --scorer server) that scores every new step, as generate --verifier does; its time counts in the figures." };
        var plot = new Option<string?>("--plot") { Description = "Where to draw the figures as a PNG (throughput, and correct-path share beside greedy accuracy). Default: <RunsDir>/bench/search-<task>.png." };
        var command = new Command("search",
            "Generator throughput and search yield on a built-in test set: for each algorithm, trees/min and nodes/s with the engine's fast " +
            "paths off (one row per call, no prefix cache), with prefix forking serving one request at a time, and with batching across " +
            "requests, each with 1 and more workers; then the share of problems whose tree holds a correct path against the model's greedy " +
            "accuracy on the same problems.")
        {
            model, task, problems, algorithms, iterations, actions, rollouts, depthLimit, maxStepTokens, oversampling, seed, threads, dtype, smallForward, replicas, yieldOnly, paths, profile, workers, verifier, plot,
        };
        command.SetAction(async (parse, cancel) =>
        {
            int count = Positive(parse, problems), threadCount = Positive(parse, threads);
            var algos = parse.GetValue(algorithms)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            foreach (var a in algos)
                if (!SearchFactory.Algorithms.Contains(a)) throw new UserError($"--algos: unknown algorithm '{a}': expected {string.Join(", ", SearchFactory.Algorithms)}");
            if (algos.Length == 0) throw new UserError("--algos names no algorithm");
            var overrides = new SearchOverrides { Iterations = parse.GetValue(iterations), Actions = parse.GetValue(actions), Rollouts = parse.GetValue(rollouts),
                DepthLimit = parse.GetValue(depthLimit), MaxStepTokens = parse.GetValue(maxStepTokens), Oversampling = parse.GetValue(oversampling) };
            var workerCounts = new List<int>();
            foreach (var w in parse.GetValue(workers)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                workerCounts.Add(int.TryParse(w, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= 1 ? n
                    : throw new UserError($"--workers: '{w}' is not a worker count (a whole number, at least 1)"));
            if (workerCounts.Count == 0) throw new UserError("--workers names no worker count");
            var enginePaths = new List<SearchBenchEngine>();
            foreach (var p in parse.GetValue(paths)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                enginePaths.Add(p switch
                {
                    "unbatched" => SearchBenchEngine.OneRowPerCall,
                    "one-at-a-time" => SearchBenchEngine.OneRequestAtATime,
                    "batched" => SearchBenchEngine.AcrossRequests,
                    _ => throw new UserError($"--paths: unknown engine path '{p}': expected unbatched, one-at-a-time or batched"),
                });
            if (enginePaths.Count == 0) throw new UserError("--paths names no engine path");
            var set = BuiltinTasks.TestSet(parse.GetValue(task)!).Take(count).ToArray();
            TorchSharp.torch.set_num_threads(threadCount);

            // On a thread of its own, as generate loads its model (IntraOpThreads.OnThreadOfItsOwn).
            var (engineModel, tokenizer, modelId) = IntraOpThreads.OnThreadOfItsOwn(() => OpenModel(parse.GetValue(model), random: false, TorchRuntime.ParseDevice(context.Settings.Device), 0, TorchRuntime.ParseDtype(parse.GetValue(dtype)!)));
            var prompts = PromptFolder.Open(context.Settings);
            var (stepVerifier, verifierEngine) = parse.GetValue(verifier) is { } folder
                ? SearchFactory.LoadVerifier(Models.Scoring.StepScoringModels.FullSpec(folder), prompts, context.Settings.Device)
                : (null, null);
            using (verifierEngine)
            using (engineModel)
            {
                var bench = new SearchBench(engineModel, tokenizer, modelId, prompts, set, overrides, ModelPromptSettings.Load(modelId), parse.GetValue(seed)) { Verifier = stepVerifier, Profile = parse.GetValue(profile),
                    SmallForwardTokens = parse.GetValue(smallForward) >= 0 ? parse.GetValue(smallForward) : throw new UserError($"--small-forward-tokens must be at least 0, not {parse.GetValue(smallForward)}"),
                    Replicas = parse.GetValue(replicas) is { } loops ? loops >= 1 ? loops : throw new UserError($"--replicas must be at least 1, not {loops}") : null };
                var cases = algos.SelectMany(a => parse.GetValue(yieldOnly)
                    ? new[] { new SearchBenchCase(a, SearchBenchEngine.AcrossRequests, 1) }
                    : enginePaths.Distinct().Order().SelectMany(e => e == SearchBenchEngine.OneRowPerCall ? [new SearchBenchCase(a, e, 1)]
                        : workerCounts.Distinct().Select(w => new SearchBenchCase(a, e, w)))).ToArray();
                context.Console.MarkupLineInterpolated($"model: {modelId} ({engineModel.ParameterCount() / 1e6:0.00}M parameters); {set.Length} problems of the {parse.GetValue(task)} test set; seed {parse.GetValue(seed)}; {TorchSharp.torch.get_num_threads()} libtorch threads for the engine's forwards past {parse.GetValue(smallForward)} tokens; device {context.Settings.Device}; {parse.GetValue(dtype)} weights");

                int greedy = 0;
                var results = new List<SearchBenchResult>();
                await context.Console.Progress()
                    .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                    .StartAsync(async progress =>
                    {
                        var greedyBar = progress.AddTask("greedy decoding", maxValue: set.Length);
                        var bars = cases.Select(c => progress.AddTask(Markup.Escape($"{c.Algorithm}, {c.EnginePath}, {c.Workers} worker{(c.Workers > 1 ? "s" : "")}"), autoStart: false, maxValue: set.Length)).ToArray();
                        // Greedy decoding goes first: it also warms up the JIT and libtorch's thread pool for the timed runs.
                        greedy = await bench.GreedyCorrectAsync(256, done => greedyBar.Value = done, cancel);
                        for (int i = 0; i < cases.Length; i++)
                        {
                            bars[i].StartTask();
                            var bar = bars[i];
                            results.Add(await bench.RunAsync(cases[i], done => bar.Value = done, cancel));
                        }
                    });
                PrintSearchResults(context.Console, results, greedy, set.Length, workerCounts[0]);
                if (parse.GetValue(profile)) PrintSearchProfile(context.Console, results);
                var plotPath = parse.GetValue(plot) ?? Path.Combine(context.Settings.RunsDir, "bench", $"search-{parse.GetValue(task)}.png");
                SearchBenchPlot.Write(results, greedy, set.Length, parse.GetValue(task)!, plotPath);
                context.Console.MarkupLineInterpolated($"[grey]plot → {plotPath}[/]");
                // A configuration that serves each request alone must build the trees of a baseline that does too: a difference is
                // a bug in a fast path, not a figure. Batching across requests may move a token by fp32 rounding: its count is a figure.
                var differing = results.GroupBy(r => r.Case.Algorithm).Where(g => g.First().Case.MustMatchBaseline)
                    .SelectMany(g => g.Skip(1).Select(r => (r.Case, Problems: r.ProblemsDifferingFrom(g.First()))))
                    .Where(d => d.Problems.Count > 0 && d.Case.MustMatchBaseline).ToList();
                foreach (var (differs, ids) in differing)
                    await context.Errors.WriteLineAsync($"error: {differs.Algorithm} ({differs.EnginePath}, {differs.Workers} worker{(differs.Workers > 1 ? "s" : "")}) built other trees than the first configuration for {string.Join(", ", ids)}");
                return differing.Count > 0 ? 1 : 0;
            }
        });
        return command;
    }

    /// <summary>The project's yield target: trees must hold a correct path at least this many times as often as greedy decoding is right.</summary>
    private const double YieldTarget = 1.5;

    /// <summary>The engine target: the most workers give at least this many times the trees/min of the first worker count, batching across requests.</summary>
    private const double WorkerTarget = 2.0;

    /// <summary>Milliseconds per forward by phase, one column per configuration (every configuration runs on the engine; one row per call only splits its requests).</summary>
    private static void PrintSearchProfile(IAnsiConsole console, IReadOnlyList<SearchBenchResult> results)
    {
        var profiled = results.Where(r => r.Profile is not null).ToList();
        if (profiled.Count == 0) return;
        var table = new Table().AddColumn("ms per forward");
        foreach (var r in profiled) table.AddColumn(new TableColumn(Markup.Escape($"{r.Case.Algorithm}, {r.Case.ShortLabel}")).RightAligned());
        foreach (var phase in DecodeProfile.Phases.Append(StepProfiler.WholeForward))
            table.AddRow([Markup.Escape(phase), .. profiled.Select(r => Invariant(r.Profile!.GetValueOrDefault(phase), "0.00"))]);
        table.AddRow(["tokens per forward", .. profiled.Select(r => Invariant(r.Engine!.MeanTokensPerForward, "0.0"))]);
        console.Write(table);
        console.MarkupLine("[grey]every forward of the run recorded (prefills, decoding steps and scoring alike); phases starting with spaces are parts of the one above; " +
            "what no phase covers is the loop's bookkeeping between them[/]");
    }

    private static void PrintSearchResults(IAnsiConsole console, IReadOnlyList<SearchBenchResult> results, int greedyCorrect, int problems, int firstWorkers)
    {
        var table = new Table().AddColumns("algorithm", "engine path", "workers", "loops", "trees", "nodes", "seconds", "trees/min", "nodes/s", "requests/forward", "tokens/forward", "ms/forward", "engine busy", "prompt tokens reused", "peak memory (MiB)", "speed-up", "same trees");
        foreach (var column in table.Columns.Skip(2)) column.RightAligned();
        foreach (var group in results.GroupBy(r => r.Case.Algorithm))
        {
            // The baseline is the first row of each algorithm: the first engine path timed (by default the fast paths off), one worker.
            var baseline = group.First();
            bool compared = group.Count() > 1;
            foreach (var r in group)
            {
                table.AddRow(
                    r == baseline ? r.Case.Algorithm : "", Markup.Escape(r.Case.EnginePath), Invariant(r.Case.Workers), Invariant(r.Loops), Invariant(r.Trees.Count) + (r.Failed > 0 ? $" ({r.Failed} failed)" : ""),
                    Invariant(r.Nodes), Invariant(r.Elapsed.TotalSeconds, "0.0"), Invariant(r.TreesPerMinute, "0.00"), Invariant(r.NodesPerSecond, "0.0"),
                    r.Case.Engine == SearchBenchEngine.OneRowPerCall ? "n/a" : Invariant(r.Engine!.MeanRequestsPerForward, "0.00"),
                    Invariant(r.Engine!.MeanTokensPerForward, "0.0"), Invariant(r.Engine.MeanForwardTime.TotalMilliseconds, "0.0"),
                    Invariant(r.EngineBusyShare * 100, "0") + " %",
                    r.PromptTokensReused is { } reused ? Invariant(reused * 100, "0.0") + " %" : "n/a",
                    r.PeakBytes is { } bytes ? Invariant(bytes / 1048576.0, "0.0") : "n/a",
                    compared ? Invariant(r.NodesPerSecond / baseline.NodesPerSecond, "0.00") + "×" : "n/a",
                    compared ? $"{r.SameTreesAs(baseline)}/{r.Trees.Count}" : "n/a");
            }
        }
        console.Write(table);
        console.MarkupLine("[grey]speed-up: nodes/s over the algorithm's first row; same trees: trees identical node for node (step texts and shape) to the first row's; " +
            "requests/forward, tokens/forward: requests in flight and tokens fed that each of the engine's forwards served, on average; " +
            "ms/forward: the engine's time at work per forward; loops: engine loops over the one set of weights (generate's --replicas: by default one per worker up to one per core for a small model on a CPU); " +
            "engine busy: the loops' time at work rather than waiting for requests, summed, over the wall time (up to loops × 100 %); " +
            "prompt tokens reused: the share of requests' prompt tokens the prefix cache (one, shared by the loops) served instead of a prefill[/]");
        var scaling = new Table().AddColumns("workers", "engine path", "from", "to", "trees/min", "ratio");
        foreach (var column in scaling.Columns.Skip(2)) column.RightAligned();
        foreach (var group in results.GroupBy(r => r.Case.Algorithm))
            foreach (var engine in new[] { SearchBenchEngine.OneRequestAtATime, SearchBenchEngine.AcrossRequests })
            {
                var rows = group.Where(r => r.Case.Engine == engine).ToList();
                var (first, most) = (rows.FirstOrDefault(r => r.Case.Workers == firstWorkers), rows.MaxBy(r => r.Case.Workers));
                if (first is null || most is null || most == first) continue;
                double ratio = most.TreesPerMinute / first.TreesPerMinute;
                string verdict = engine == SearchBenchEngine.AcrossRequests ? $" (target ≥ {WorkerTarget}×: {(ratio >= WorkerTarget ? "met" : "missed")})" : "";
                scaling.AddRow(group.Key, Markup.Escape(first.Case.EnginePath), Invariant(first.Case.Workers), Invariant(most.Case.Workers),
                    $"{Invariant(first.TreesPerMinute, "0.00")} → {Invariant(most.TreesPerMinute, "0.00")}", Invariant(ratio, "0.00") + "×" + verdict);
            }
        if (scaling.Rows.Count > 0) console.Write(scaling);

        double greedy = (double)greedyCorrect / problems;
        var yield = new Table().AddColumns("search yield", "problems", "correct path in tree", "greedy accuracy", "ratio");
        foreach (var column in yield.Columns.Skip(1)) column.RightAligned();
        foreach (var group in results.GroupBy(r => r.Case.Algorithm))
        {
            // The yield of the first fast configuration; the others build the same trees, or nearly (the "same trees" column).
            var r = group.FirstOrDefault(x => x.Case.Engine != SearchBenchEngine.OneRowPerCall) ?? group.First();
            double share = (double)r.WithCorrectPath / problems;
            string ratio = greedyCorrect == 0 ? "∞" : Invariant(share / greedy, "0.00") + "×";
            string verdict = greedyCorrect == 0 ? "" : share >= YieldTarget * greedy ? $" (target ≥ {YieldTarget}×: met)" : $" (target ≥ {YieldTarget}×: missed)";
            yield.AddRow(r.Case.Algorithm, Invariant(problems), $"{r.WithCorrectPath} ({share:P1})", $"{greedyCorrect} ({greedy:P1})", ratio + verdict);
        }
        console.Write(yield);
    }

    private static string Invariant(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);

    private static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>--dtype of bench generate and bench search: the engine's weights.</summary>
    private static Option<string> Dtype()
    {
        var dtype = new Option<string>("--dtype") { Description = "Weight dtype of the engine: fp32, or bf16 (faster on a CPU with bf16 instructions such as AVX-512 BF16; samples can differ by rounding).", DefaultValueFactory = _ => "fp32", HelpName = "fp32|bf16" };
        dtype.AcceptOnlyFromAmong("fp32", "bf16");
        return dtype;
    }

    private static (CausalLanguageModel Model, HfTokenizer Tokenizer, string Id) OpenModel(string? folder, bool random, TorchSharp.torch.Device device, int seed,
        TorchSharp.torch.ScalarType dtype = TorchSharp.torch.ScalarType.Float32)
    {
        if (random && folder is not null) throw new UserError("pass either --model or --random, not both");
        if (random)
        {
            var (model, tokenizer) = RandomModel.Create(device, seed);
            TorchSharp.ModuleExtensionMethods.to(model, dtype);
            return (model, tokenizer, $"random-weights-{model.Config.NumHiddenLayers}x{model.Config.HiddenSize}");
        }
        if (folder is null)
        {
            try { folder = BuiltinModel.Locate(); }
            catch (DirectoryNotFoundException) { throw new UserError($"no model: pass --model DIR, or --random for random weights ({BuiltinModel.RelativePath}/ does not exist yet)"); }
        }
        if (!File.Exists(Path.Combine(folder, "config.json"))) throw new UserError($"{folder} is not a model folder (no config.json)");
        var checkpoint = CheckpointLoader.Load(folder, device, dtype);
        return (checkpoint.Model, checkpoint.Tokenizer, Path.TrimEndingDirectorySeparator(folder));
    }

    private static void PrintSetup(IAnsiConsole console, TorchEngine engine, int promptTokens, int newTokens, int k, int repeats, string device)
    {
        var c = engine.Model.Config;
        console.MarkupLineInterpolated($"model: {engine.ModelId} ({c.ModelType}, {c.NumHiddenLayers} layers, hidden {c.HiddenSize}, {c.NumAttentionHeads} heads / {c.NumKeyValueHeads} KV heads, vocabulary {c.VocabSize}, {engine.Model.ParameterCount() / 1e6:0.0}M parameters, {TorchRuntime.DtypeName(engine.Dtype)})");
        console.MarkupLineInterpolated($"device: {device}, {TorchSharp.torch.get_num_threads()} threads for the engine's forwards past {new TorchEngineOptions().SmallForwardTokens} tokens; prompt {promptTokens} tokens; {newTokens} new tokens per row (EOS ignored); k = {k}; temperature 1; median of {repeats} runs after a warm-up");
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
