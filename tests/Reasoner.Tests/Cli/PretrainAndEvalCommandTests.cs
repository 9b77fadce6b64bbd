using System.Text.Json.Nodes;
using Reasoner.Models.Checkpoints;
using Reasoner.Training;
using Reasoner.Training.Pretraining;

namespace Reasoner.Tests.Cli;

/// <summary>The pretrain and eval commands end to end on a model small enough to train in seconds.</summary>
public sealed class PretrainAndEvalCommandTests : IDisposable
{
    readonly string _runs = Directory.CreateTempSubdirectory("reasoner-pretrain-").FullName;

    public void Dispose() => Directory.Delete(_runs, recursive: true);

    internal static string[] Tiny(string output, int steps, params string[] more) =>
    [
        "pretrain", "--out", output, "--steps", steps.ToString(), "--layers", "1", "--hidden", "32", "--heads", "2", "--kv-heads", "1",
        "--vocab-size", "300", "--batch", "4", "--warmup", "2", "--eval-every", "2", "--eval-problems", "2", "--save-every", "2", "--threads", "1", .. more,
    ];

    [Fact]
    public async Task PretrainSavesAModelThatEvalLoadsAndResumeContinuesTheLog()
    {
        var output = Path.Combine(_runs, "tiny");
        var first = await CliRunner.Run(Tiny(output, 4));
        Assert.True(first.ExitCode == 0, first.Err + first.Out);
        foreach (var file in new[] { "config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "generation_config.json", ModelPromptSettings.FileName, TrainingLog.FileName })
            Assert.True(File.Exists(Path.Combine(output, file)), file);
        Assert.True(TrainingCheckpoint.Exists(Path.Combine(output, "checkpoint")));
        Assert.Equal("solve-bare", ModelPromptSettings.Load(output)!.Prompt);
        Assert.Equal("self-eval-bare", ModelPromptSettings.Load(output)!.SelfEvalPrompt);
        var log = TrainingLog.Read(Path.Combine(output, TrainingLog.FileName));
        Assert.Contains(log, line => line["greedy_arith"] is not null && line["step"]!.GetValue<int>() == 4);
        Assert.Contains(log, line => line["self_eval_auc_logic"] is not null);
        var summary = Assert.Single(log, line => line["run_mfu"] is not null);
        Assert.InRange(summary["run_mfu"]!.GetValue<double>(), 1e-4, 1.5);
        // The run's peak is its windows' (here the one window at the end); the fastest measurement is at least as fast.
        Assert.True(summary["fastest_peak_flops_per_s"]!.GetValue<double>() >= summary["peak_flops_per_s"]!.GetValue<double>());
        Assert.True(summary["run_mfu_fastest_peak"]!.GetValue<double>() <= summary["run_mfu"]!.GetValue<double>());
        Assert.Contains("of the", first.Out);
        // The model is stored in float16 and loads as float32.
        using (var stored = SafeTensorsReader.Open(Path.Combine(output, "model.safetensors")))
            Assert.All(stored.Entries.Values, e => Assert.Equal("F16", e.Dtype));
        using (var loaded = CheckpointLoader.Load(output).Model)
            Assert.Equal(TorchSharp.torch.ScalarType.Float32, loaded.parameters().First().dtype);

        // Resumed in mixed precision: training steps in bf16, the evaluations on the way (greedy decoding with a KV cache) in fp32.
        var resumed = await CliRunner.Run(Tiny(output, 6, "--resume", "--matmul", "bf16"));
        Assert.True(resumed.ExitCode == 0, resumed.Err + resumed.Out);
        Assert.Contains("resumed from", resumed.Out);
        Assert.Contains("bf16 matmul peak", resumed.Out);
        Assert.Equal(6, TrainingCheckpoint.ReadProgress(Path.Combine(output, "checkpoint")).Step);
        var record = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "pretrain.json")))!;
        Assert.Equal("pretrain", (string)record["method"]!);
        Assert.Equal(6, (int)record["steps"]!);
        Assert.Equal(4, (int)record["settings"]!["batch"]!);
        Assert.Equal("bf16", (string)record["settings"]!["matmul"]!);
        Assert.InRange((double)record["final"]!["greedy_arith"]!, 0, 1);

        // A fresh run over a finished one is refused, and --force replaces it.
        var again = await CliRunner.Run(Tiny(output, 2));
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("already holds a model", again.Err);
        Assert.Equal(10000, (double)JsonNode.Parse(File.ReadAllText(Path.Combine(output, "config.json")))!["rope_theta"]!);
        var replaced = await CliRunner.Run(Tiny(output, 2, "--force", "--rope-theta", "500000", "--arch", "qwen3", "--weight-decay", "0"));
        Assert.True(replaced.ExitCode == 0, replaced.Err + replaced.Out);
        var replacedRecord = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "pretrain.json")))!;
        Assert.Equal(2, (int)replacedRecord["steps"]!);
        Assert.Equal(0, (double)replacedRecord["settings"]!["weight_decay"]!);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "config.json")))!;
        Assert.Equal(500000, (double)config["rope_theta"]!);
        // QK-norm: a Qwen3 checkpoint, with a norm over each head's queries and keys; eval below loads it.
        Assert.Equal("qwen3", (string)config["model_type"]!);
        Assert.Equal("Qwen3ForCausalLM", (string)config["architectures"]![0]!);
        using (var stored = SafeTensorsReader.Open(Path.Combine(output, "model.safetensors")))
            Assert.Contains("model.layers.0.self_attn.q_norm.weight", stored.Entries.Keys);
        Assert.DoesNotContain(TrainingLog.Read(Path.Combine(output, TrainingLog.FileName)), l => l["step"]!.GetValue<int>() > 2);

        var eval = await CliRunner.Run("eval", "--task", "arith", "--model", output, "--problems", "2", "--k", "2", "--max-tokens", "8", "--threads", "1",
            "--out", Path.Combine(_runs, "eval.json"));
        Assert.True(eval.ExitCode == 0, eval.Err + eval.Out);
        Assert.Contains("pass@2", eval.Out);
        Assert.Contains("solve-bare", eval.Out);
        // Each accuracy with its interval, drawn beside the report.
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(Path.Combine(_runs, "eval.png"))[..4]);
    }

    [Fact]
    public async Task TheOwnStepPhaseSamplesAndJudgesAPoolThatAResumedRunReadsBack()
    {
        var output = Path.Combine(_runs, "own-steps");
        string[] own = ["--own-steps-at", "2", "--own-step-problems", "2", "--own-step-samples", "2", "--own-step-held-out", "2", "--seq-len", "200"];
        var first = await CliRunner.Run(Tiny(output, 4, own));
        Assert.True(first.ExitCode == 0, first.Err + first.Out);
        Assert.Contains("own steps: sampling 2 solutions for each of 8 problems", first.Out);
        var pool = Path.Combine(output, OwnStepPool.FileName);
        var lines = File.ReadAllLines(pool).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.NotEmpty(lines);
        Assert.All(lines, l => Assert.Contains((string)l["split"]!, new[] { "train", "test" }));
        Assert.Contains(lines, l => (string)l["split"]! == "test");
        // Held-out own steps are measured at the phase's start (before training on the pool) and at each evaluation after.
        var log = TrainingLog.Read(Path.Combine(output, TrainingLog.FileName));
        Assert.Equal([2, 4], log.Where(l => l.ContainsKey("own_step_auc_arith")).Select(l => l["step"]!.GetValue<int>()));
        Assert.Contains("self-evaluation AUC on held-out own steps", first.Out);

        var before = File.ReadAllText(pool);
        var resumed = await CliRunner.Run(Tiny(output, 6, [.. own, "--resume"]));
        Assert.True(resumed.ExitCode == 0, resumed.Err + resumed.Out);
        Assert.Contains("judged steps read from", resumed.Out);
        Assert.Equal(before, File.ReadAllText(pool));

        // A fresh run drops the old pool with the old model.
        var fresh = await CliRunner.Run(Tiny(output, 2, "--force"));
        Assert.True(fresh.ExitCode == 0, fresh.Err + fresh.Out);
        Assert.False(File.Exists(pool));
    }

    [Fact]
    public async Task EvalLookupsPrintsTheLogicLookUpAccuracyByGap()
    {
        var r = await CliRunner.Run("eval", "--task", "logic", "--lookups", "--problems", "3", "--threads", "1");
        Assert.True(r.ExitCode == 0, r.Err + r.Out);
        foreach (var expected in new[] { "1 word after the subject", "2 words after the subject", "the person's category", "problems with every look-up right", "3 problems" })
            Assert.Contains(expected, r.Out);
        Assert.Matches(@"│ all\s+│\s+\d+ / \d+ │", r.Out);

        // On uncontested problems: other problems, so (with 3 of them) other look-up counts.
        var uncontested = await CliRunner.Run("eval", "--task", "logic", "--lookups", "--uncontested", "--problems", "3", "--threads", "1");
        Assert.True(uncontested.ExitCode == 0, uncontested.Err + uncontested.Out);
        Assert.NotEqual(System.Text.RegularExpressions.Regex.Match(r.Out, @"│ all\s+│\s+\d+ / \d+ │").Value,
            System.Text.RegularExpressions.Regex.Match(uncontested.Out, @"│ all\s+│\s+\d+ / \d+ │").Value);
    }

    [Theory]
    [InlineData("pretrain", "--out", "x")]                                   // neither --steps nor --minutes
    [InlineData("pretrain", "--out", "x", "--steps", "5", "--tasks", "chess")]
    [InlineData("pretrain", "--out", "x", "--steps", "5", "--rope-theta", "0")]
    [InlineData("pretrain", "--out", "x", "--steps", "5", "--arch", "gpt2")]
    [InlineData("pretrain", "--out", "x", "--steps", "5", "--matmul", "fp8")]
    [InlineData("pretrain", "--out", "x", "--steps", "5", "--weight-decay", "-0.1")]
    [InlineData("pretrain", "--out", "x", "--steps", "5", "--own-steps-at", "5")]
    [InlineData("pretrain", "--out", "x", "--steps", "5", "--own-steps-at", "2", "--own-step-share", "0")]
    [InlineData("pretrain", "--out", "x", "--steps", "5", "--task-difficulty", "arith")]
    [InlineData("pretrain", "--out", "x", "--steps", "5", "--schedule-steps", "4")]
    [InlineData("pretrain", "--out", "x", "--minutes", "1", "--schedule-steps", "4")]
    [InlineData("pretrain", "--out", "x", "--steps", "5", "--tasks", "logic", "--task-difficulty", "arith=1")]
    [InlineData("pretrain", "--out", "x", "--steps", "5", "--switch-at", "5")]
    [InlineData("pretrain", "--out", "x", "--steps", "5", "--switch-at", "2", "--switch-tasks", "logic")]
    [InlineData("pretrain", "--out", "x", "--steps", "5", "--switch-at", "2", "--switch-task-difficulty", "arith=4")]
    [InlineData("pretrain", "--out", "x", "--steps", "5", "--switch-tasks", "arith:1,logic:5")]
    [InlineData("pretrain", "--out", "x", "--steps", "5", "--own-steps-at", "2", "--own-step-weight", "0")]
    [InlineData("pretrain", "--out", "x", "--steps", "5", "--own-steps-at", "2", "--own-step-tasks", "arith:1,chess:1")]
    [InlineData("pretrain", "--out", "x", "--steps", "5", "--own-steps-at", "2", "--tasks", "logic", "--own-step-tasks", "arith")]
    [InlineData("pretrain", "--out", "x", "--steps", "5", "--own-step-tasks", "arith")]
    [InlineData("pretrain", "--out", "x", "--steps", "5", "--own-step-weight", "20")]
    [InlineData("eval", "--task", "arith", "--k", "4", "--samples", "2")]
    [InlineData("eval", "--task", "arith", "--lookups")]
    [InlineData("eval", "--task", "logic", "--attention", "--uncontested")]
    public async Task BadSettingsAreUserErrors(params string[] args)
    {
        var r = await CliRunner.Run(new Dictionary<string, string?> { ["RunsDir"] = _runs }, args);
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("error: ", r.Err);
    }
}

/// <summary>
/// Bit-for-bit comparisons of two trainings: libtorch's seed and thread count are process-wide, so no other test may
/// draw random numbers or change the threads while these run.
/// </summary>
[CollectionDefinition(nameof(BitExactTrainingCollection), DisableParallelization = true)]
public sealed class BitExactTrainingCollection;

[Collection(nameof(BitExactTrainingCollection))]
public sealed class PretrainScheduleTests : IDisposable
{
    readonly string runs = Directory.CreateTempSubdirectory("reasoner-schedule-").FullName;

    public void Dispose() => Directory.Delete(runs, recursive: true);

    static string[] Tiny(string output, int steps, params string[] more) => PretrainAndEvalCommandTests.Tiny(output, steps, more);

    [Fact]
    public async Task AScheduleLongerThanTheRunTrainsTheFirstStepsOfTheLongerRun()
    {
        // The first 4 steps of an 8-step schedule, then resumed to its end, equal an 8-step run: same rates, same data.
        var whole = Path.Combine(runs, "whole");
        var part = Path.Combine(runs, "part");
        var full = await CliRunner.Run(Tiny(whole, 8));
        Assert.True(full.ExitCode == 0, full.Err + full.Out);
        var first = await CliRunner.Run(Tiny(part, 4, "--schedule-steps", "8"));
        Assert.True(first.ExitCode == 0, first.Err + first.Out);
        var stopped = TrainingCheckpoint.ReadProgress(Path.Combine(part, "checkpoint"));
        Assert.Equal((4, 8), (stopped.Step, stopped.TotalSteps));
        Assert.Equal(4, (int)JsonNode.Parse(File.ReadAllText(Path.Combine(part, "pretrain.json")))!["steps"]!);
        var rest = await CliRunner.Run(Tiny(part, 8, "--resume"));
        Assert.True(rest.ExitCode == 0, rest.Err + rest.Out);

        AssertSameWeights(whole, part);
    }

    [Fact]
    public async Task AMixSwitchEqualsStoppingAtItsStepAndResumingWithTheSecondMix()
    {
        string[] second = ["--tasks", "arith:1,logic:5", "--task-difficulty", "arith=1"];
        var switched = Path.Combine(runs, "switched");
        var split = Path.Combine(runs, "split");
        var one = await CliRunner.Run(Tiny(switched, 6, "--switch-at", "3", "--switch-tasks", "arith:1,logic:5", "--switch-task-difficulty", "arith=1"));
        Assert.True(one.ExitCode == 0, one.Err + one.Out);
        Assert.Contains("step 3: problems drawn from then on", one.Out);
        var record = JsonNode.Parse(File.ReadAllText(Path.Combine(switched, "pretrain.json")))!;
        Assert.Equal(3, (int)record["settings"]!["switch"]!["at_step"]!);
        var first = await CliRunner.Run(Tiny(split, 3, "--schedule-steps", "6"));
        Assert.True(first.ExitCode == 0, first.Err + first.Out);
        var rest = await CliRunner.Run(Tiny(split, 6, ["--resume", .. second]));
        Assert.True(rest.ExitCode == 0, rest.Err + rest.Out);
        AssertSameWeights(switched, split);

        // And the switch matters: the same run without it trains on other problems from step 3.
        var unswitched = Path.Combine(runs, "unswitched");
        var plain = await CliRunner.Run(Tiny(unswitched, 6));
        Assert.True(plain.ExitCode == 0, plain.Err + plain.Out);
        Assert.Throws<Xunit.Sdk.TrueException>(() => AssertSameWeights(switched, unswitched));
    }

    [Fact]
    public async Task TheOwnStepWeightEqualsResumingIntoThePhaseWithThatSelfEvaluationWeight()
    {
        string[] phase = ["--own-steps-at", "2", "--own-step-problems", "2", "--own-step-samples", "1", "--own-step-held-out", "1", "--self-eval-share", "0.5"];
        var weighted = Path.Combine(runs, "weighted");
        var split = Path.Combine(runs, "resumed");
        var one = await CliRunner.Run(Tiny(weighted, 4, [.. phase, "--own-step-weight", "20"]));
        Assert.True(one.ExitCode == 0, one.Err + one.Out);
        var first = await CliRunner.Run(Tiny(split, 2, "--schedule-steps", "4", "--self-eval-share", "0.5"));
        Assert.True(first.ExitCode == 0, first.Err + first.Out);
        var rest = await CliRunner.Run(Tiny(split, 4, ["--resume", .. phase, "--self-eval-weight", "20"]));
        Assert.True(rest.ExitCode == 0, rest.Err + rest.Out);
        AssertSameWeights(weighted, split);

        var plain = Path.Combine(runs, "unweighted");
        var unweighted = await CliRunner.Run(Tiny(plain, 4, phase));
        Assert.True(unweighted.ExitCode == 0, unweighted.Err + unweighted.Out);
        Assert.Throws<Xunit.Sdk.TrueException>(() => AssertSameWeights(weighted, plain));

        // A one-task judgement mix draws no random number, so what it changes is which task is judged: on both tasks
        // the judgements of logic problems become arithmetic ones and the weights differ; on arithmetic alone nothing changes.
        var judged = Path.Combine(runs, "judged");
        var arithJudged = await CliRunner.Run(Tiny(judged, 4, [.. phase, "--own-step-tasks", "arith"]));
        Assert.True(arithJudged.ExitCode == 0, arithJudged.Err + arithJudged.Out);
        Assert.Throws<Xunit.Sdk.TrueException>(() => AssertSameWeights(judged, plain));
        var arithOnly = Path.Combine(runs, "arith-only");
        var arithOnlyJudged = Path.Combine(runs, "arith-only-judged");
        var onlyPlain = await CliRunner.Run(Tiny(arithOnly, 4, [.. phase, "--tasks", "arith"]));
        Assert.True(onlyPlain.ExitCode == 0, onlyPlain.Err + onlyPlain.Out);
        var onlyJudged = await CliRunner.Run(Tiny(arithOnlyJudged, 4, [.. phase, "--tasks", "arith", "--own-step-tasks", "arith"]));
        Assert.True(onlyJudged.ExitCode == 0, onlyJudged.Err + onlyJudged.Out);
        AssertSameWeights(arithOnly, arithOnlyJudged);
    }

    static void AssertSameWeights(string left, string right)
    {
        using var a = SafeTensorsReader.Open(Path.Combine(left, "model.safetensors"));
        using var b = SafeTensorsReader.Open(Path.Combine(right, "model.safetensors"));
        Assert.Equal(a.Entries.Keys.Order(), b.Entries.Keys.Order());
        foreach (var name in a.Entries.Keys)
        {
            using var l = a.Read(name);
            using var r = b.Read(name);
            Assert.True(l.equal(r).all().item<bool>(), name);
        }
    }
}
