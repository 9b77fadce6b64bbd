using System.Text.Json.Nodes;
using Reasoner.Core.Prompts;
using Reasoner.Models.Checkpoints;
using Reasoner.Tests.Generation;
using Reasoner.Training;

namespace Reasoner.Tests.Cli;

/// <summary><c>train dpo</c> on a run the generator wrote (the reference-solution policy's trees) with a tiny checkpoint.</summary>
public sealed class TrainCommandTests : IDisposable
{
    private readonly string _runs = Directory.CreateTempSubdirectory("reasoner-train-").FullName;
    private readonly TinyCheckpoint _checkpoint = new();

    public void Dispose()
    {
        Directory.Delete(_runs, recursive: true);
        _checkpoint.Dispose();
    }

    private Dictionary<string, string?> Config => new() { ["RunsDir"] = _runs, ["Store:Fsync"] = "false" };

    private async Task Generate()
    {
        var r = await CliRunner.Run(Config, "generate", "--model", "reference:0.5", "--problems", "12", "--iterations", "4");
        Assert.Equal(0, r.ExitCode);
    }

    private Task<CliRunner.Result> Train(params string[] options) =>
        CliRunner.Run(Config, ["train", "dpo", "mcts-arith", "--model", _checkpoint.Path, "--max-length", "4096", "--batch", "2", "--epochs", "1", .. options]);

    [Fact]
    public async Task DpoWritesAModelThatLoadsWithItsPromptSettingsLogAndRecord()
    {
        await Generate();
        new ModelPromptSettings { Prompt = PromptLibrary.SolveBare, Oversampling = 3 }.Save(_checkpoint.Path);

        var r = await Train("--eval-fraction", "0.25", "--eval-every", "1");

        Assert.True(r.ExitCode == 0, r.Err);
        Assert.Contains("step-level DPO", r.Out);
        Assert.Matches(@"\d+ to train on, [1-9]\d* held out", r.Out);
        var outDir = Path.Combine(_runs, "dpo-mcts-arith");
        // Training moved the weights, and moved them the way DPO means: held-out pairs, which start with no preference (the
        // policy is its own reference, margin 0), end with the chosen side ahead on average and no less often than before.
        using (var loaded = CheckpointLoader.Load(outDir).Model)
        using (var start = CheckpointLoader.Load(_checkpoint.Path).Model)
            Assert.Contains(loaded.parameters().Zip(start.parameters()), p => !p.First.allclose(p.Second, 0, 0));
        Assert.Equal(3, ModelPromptSettings.Load(outDir)!.Oversampling);
        var record = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "dpo.json")))!;
        Assert.Equal("step-dpo", (string)record["method"]!);
        Assert.Equal("conservative", (string)record["settings"]!["loss"]!);
        Assert.Equal(0, (double)record["eval_before"]!["rewards/margin"]!, 6);
        Assert.True((double)record["eval_after"]!["rewards/margin"]! > 0, $"held-out margin {record["eval_after"]!["rewards/margin"]}");
        Assert.True((double)record["eval_after"]!["rewards/accuracy"]! >= (double)record["eval_before"]!["rewards/accuracy"]!, record["eval_after"]!.ToJsonString());
        int steps = (int)record["steps"]!, trainPairs = (int)record["train_pairs"]!;
        Assert.True(trainPairs > 0);
        Assert.Equal((trainPairs + 1) / 2, steps);
        var log = TrainingLog.Read(Path.Combine(outDir, TrainingLog.FileName));
        Assert.Equal(steps, log.Count(l => l.ContainsKey("loss")));
        Assert.Equal(steps + 1, log.Count(l => l.ContainsKey("eval/loss")));
        Assert.False(Directory.Exists(outDir + ".saving"));
        Assert.False(Directory.Exists(Path.Combine(outDir, "checkpoint")), "a finished run drops its resumable checkpoint");

        // The trained model is a model like any other: a next round searches with it.
        var next = await CliRunner.Run(Config, "generate", "--model", outDir, "--problems", "1", "--iterations", "1", "--max-step-tokens", "4",
            "--depth-limit", "2", "--out", "round-2");
        Assert.True(next.ExitCode == 0, next.Err);
    }

    [Fact]
    public async Task AnExistingModelIsKeptUnlessForcedAndTheReplacementKeepsNoneOfItsFiles()
    {
        await Generate();
        new ModelPromptSettings { Prompt = PromptLibrary.SolveBare }.Save(_checkpoint.Path);
        Assert.Equal(0, (await Train("--out", "dpo")).ExitCode);
        var outDir = Path.Combine(_runs, "dpo");
        Assert.True(File.Exists(Path.Combine(outDir, ModelPromptSettings.FileName)));

        var again = await Train("--out", "dpo");
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("already holds a model", again.Err);

        // The new base model has no reasoner.json, so neither may the model trained from it.
        File.Delete(Path.Combine(_checkpoint.Path, ModelPromptSettings.FileName));
        Assert.Equal(0, (await Train("--out", "dpo", "--force")).ExitCode);
        Assert.False(File.Exists(Path.Combine(outDir, ModelPromptSettings.FileName)));
    }

    [Fact]
    public async Task AStoppedRunSavesACheckpointAndResumesWithoutRepeatingLogLines()
    {
        await Generate();
        var outDir = Path.Combine(_runs, "dpo");
        string[] args = ["train", "dpo", "mcts-arith", "--model", _checkpoint.Path, "--max-length", "4096", "--batch", "1", "--epochs", "4",
            "--save-every", "3", "--eval-fraction", "0", "--out", "dpo"];
        using var cancel = new CancellationTokenSource();
        var state = Path.Combine(outDir, "checkpoint", TrainingCheckpoint.StateFile);
        // The command trains on the calling thread; a thread of its own (not the busy thread pool) stops it at its first checkpoint.
        var watcher = new Thread(() =>
        {
            for (var waited = 0; !File.Exists(state) && waited < 12000; waited++) Thread.Sleep(5);
            cancel.Cancel();
        });
        watcher.Start();
        var running = Reasoner.Cli.ReasonerApp.RunAsync(args, new StringWriter(), new StringWriter(), Config, cancel.Token);
        watcher.Join();
        Assert.Equal(130, await running);
        Assert.True(File.Exists(state), "a checkpoint was saved");
        Assert.False(File.Exists(Path.Combine(outDir, "config.json")), "a stopped run saves no model");

        var resumed = await CliRunner.Run(Config, [.. args, "--resume"]);
        Assert.True(resumed.ExitCode == 0, resumed.Err);
        int steps = (int)JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "dpo.json")))!["steps"]!;
        var logged = TrainingLog.Read(Path.Combine(outDir, TrainingLog.FileName)).Where(l => l.ContainsKey("loss")).Select(l => (int)l["step"]!).ToList();
        Assert.Equal(Enumerable.Range(1, steps), logged);
        Assert.False(Directory.Exists(Path.Combine(outDir, "checkpoint")));
    }

    [Theory]
    [InlineData("--min-margin", "1000")]
    [InlineData("--beta", "0")]
    [InlineData("--eval-fraction", "1")]
    public async Task BadInputIsOneErrorLineAndExitCode2(params string[] options)
    {
        await Generate();
        var r = await Train(options);
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("error: ", r.Err);
        Assert.Single(r.Err.TrimEnd().Split('\n'));
        Assert.False(File.Exists(Path.Combine(_runs, "dpo-mcts-arith", "config.json")));
    }

    [Fact]
    public async Task ResumingWithoutACheckpointIsRefused()
    {
        await Generate();
        var r = await Train("--resume");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("no checkpoint", r.Err);
    }

    [Fact]
    public async Task AMissingRunIsNamed()
    {
        var r = await CliRunner.Run(Config, "train", "dpo", "no-such-run");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("no-such-run", r.Err);
    }
}

public class SearchingModelTests
{
    [Fact]
    public void TheDefaultPolicyIsTheOneModelFolderThatSearched()
    {
        using var a = new TinyCheckpoint();
        using var b = new TinyCheckpoint();
        Assert.Null(Reasoner.Cli.Commands.TrainCommand.SearchingModel(["reference:0.3", "reference:0"]));
        var server = Assert.Throws<Reasoner.Cli.Hosting.UserError>(() => Reasoner.Cli.Commands.TrainCommand.SearchingModel([a.Path, "http://localhost:8000/v1"]));
        Assert.Contains("http://localhost:8000/v1", server.Message);
        Assert.Equal(Path.TrimEndingDirectorySeparator(Path.GetFullPath(a.Path)),
            Reasoner.Cli.Commands.TrainCommand.SearchingModel([a.Path, a.Path + "/", "reference"]));
        var e = Assert.Throws<Reasoner.Cli.Hosting.UserError>(() => Reasoner.Cli.Commands.TrainCommand.SearchingModel([a.Path, b.Path]));
        Assert.Contains("--model", e.Message);
    }
}

/// <summary><c>train tpo</c> on a run whose nodes have three or more children, with a tiny checkpoint.</summary>
public sealed class TrainTpoCommandTests : TrainCliFixture
{
    public TrainTpoCommandTests() : base("reasoner-tpo-") { }

    [Fact]
    public async Task TpoWritesAModelThatGenerateLoadsWithItsLogAndRecord()
    {
        var generated = await CliRunner.Run(Config, "generate", "--model", "reference:0.5", "--problems", "16", "--iterations", "6", "-k", "3");
        Assert.Equal(0, generated.ExitCode);
        string[] args = ["train", "tpo", "mcts-arith", "--model", _checkpoint.Path, "--max-length", "4096", "--batch", "2", "--epochs", "1", "--eval-fraction", "0.25", "--eval-every", "1"];

        var r = await CliRunner.Run(Config, args);

        Assert.True(r.ExitCode == 0, r.Err);
        Assert.Matches(@"\d+ lists from \d+ nodes with 3\+ children", r.Out);
        var outDir = Path.Combine(_runs, "tpo-mcts-arith");
        using (var loaded = CheckpointLoader.Load(outDir).Model)
            Assert.True(loaded.ParameterCount() > 0);
        var record = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "tpo.json")))!;
        Assert.Equal("tpo", (string)record["method"]!);
        Assert.Equal("paper", (string)record["settings"]!["variant"]!);
        int steps = (int)record["steps"]!, lists = (int)record["train_lists"]!;
        Assert.True(lists > 0);
        Assert.Equal((lists + 1) / 2, steps);
        var log = TrainingLog.Read(Path.Combine(outDir, TrainingLog.FileName));
        Assert.Equal(steps, log.Count(l => l.ContainsKey("loss")));
        Assert.All(log.Where(l => l.ContainsKey("loss")), l => Assert.InRange((double)l["rewards/pair_accuracy"]!, 0, 1));
        var png = File.ReadAllBytes(Path.Combine(outDir, TrainingCurves.FileName));
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        Assert.False(Directory.Exists(Path.Combine(outDir, "checkpoint")));

        var next = await CliRunner.Run(Config, "generate", "--model", outDir, "--problems", "1", "--iterations", "1", "--max-step-tokens", "4",
            "--depth-limit", "2", "--out", "round-2");
        Assert.True(next.ExitCode == 0, next.Err);

        // The same folder again is refused without --force; --force trains it over.
        var again = await CliRunner.Run(Config, args);
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("already holds a model", again.Err);
    }
}

/// <summary><c>train trpa</c> on the terminals of a stored run, with a tiny checkpoint.</summary>
public sealed class TrainTrpaCommandTests : TrainCliFixture
{
    public TrainTrpaCommandTests() : base("reasoner-trpa-") { }

    [Fact]
    public async Task TrpaWritesAModelThatLoadsWithItsRecordAndRefusesBadLevels()
    {
        Assert.Equal(0, (await CliRunner.Run(Config, "generate", "--model", "reference:0.5", "--problems", "12", "--iterations", "4")).ExitCode);
        string[] args = ["train", "trpa", "mcts-arith", "--model", _checkpoint.Path, "--max-length", "4096", "--batch", "2", "--epochs", "1"];

        var bad = await CliRunner.Run(Config, [.. args, "--levels", "1,2,x,4"]);
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--levels", bad.Err);

        var r = await CliRunner.Run(Config, args);
        Assert.True(r.ExitCode == 0, r.Err);
        var outDir = Path.Combine(_runs, "trpa-mcts-arith");
        using (var loaded = CheckpointLoader.Load(outDir).Model)
            Assert.True(loaded.ParameterCount() > 0);
        var record = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "trpa.json")))!;
        Assert.Equal("trpa", (string)record["method"]!);
        Assert.Equal(2.5, (double)record["settings"]!["anisotropy"]!);
        int steps = (int)record["steps"]!, groups = (int)record["train_groups"]!;
        Assert.Equal((groups + 1) / 2, steps);
        Assert.Equal(steps, TrainingLog.Read(Path.Combine(outDir, TrainingLog.FileName)).Count(l => l.ContainsKey("trust_region_kl")));
    }
}

/// <summary><c>train onpo</c>: one round's two fits, the auxiliary iterate beside the policy, and a resume that skips a finished first fit.</summary>
public sealed class TrainOnpoCommandTests : TrainCliFixture
{
    public TrainOnpoCommandTests() : base("reasoner-onpo-") { }

    [Fact]
    public async Task ARoundWritesThePolicyAndItsAuxiliaryIterateAndAStopInTheSecondFitResumesThere()
    {
        Assert.Equal(0, (await CliRunner.Run(Config, "generate", "--model", "reference:0.5", "--problems", "16", "--iterations", "4")).ExitCode);
        var outDir = Path.Combine(_runs, "onpo");
        string[] args = ["train", "onpo", "mcts-arith", "--model", _checkpoint.Path, "--max-length", "4096", "--batch", "1", "--epochs", "3",
            "--save-every", "2", "--eval-fraction", "0", "--out", "onpo"];
        using var cancel = new CancellationTokenSource();
        var secondFitState = Path.Combine(outDir, "checkpoint", TrainingCheckpoint.StateFile);
        var watcher = new Thread(() =>
        {
            for (var waited = 0; !File.Exists(secondFitState) && waited < 24000; waited++) Thread.Sleep(5);
            cancel.Cancel();
        });
        watcher.Start();
        var running = Reasoner.Cli.ReasonerApp.RunAsync(args, new StringWriter(), new StringWriter(), Config, cancel.Token);
        watcher.Join();
        Assert.Equal(130, await running);
        Assert.True(File.Exists(Path.Combine(outDir, "auxiliary", "config.json")), "the first fit's model is saved");
        Assert.False(File.Exists(Path.Combine(outDir, "config.json")), "a stopped second fit saves no policy");
        var auxiliaryWeights = File.ReadAllBytes(Path.Combine(outDir, "auxiliary", "model.safetensors"));

        var resumed = await CliRunner.Run(Config, [.. args, "--resume"]);
        Assert.True(resumed.ExitCode == 0, resumed.Err);
        Assert.DoesNotContain("fit 1 of 2", resumed.Out);
        Assert.Equal(auxiliaryWeights, File.ReadAllBytes(Path.Combine(outDir, "auxiliary", "model.safetensors")));
        var record = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "onpo.json")))!;
        Assert.Equal("onpo", (string)record["method"]!);
        Assert.Equal(Path.Combine(outDir, "auxiliary"), (string)record["base_model"]!);
        Assert.Equal("onpo-auxiliary", (string)JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "auxiliary", "onpo.json")))!["method"]!);
        var logged = TrainingLog.Read(Path.Combine(outDir, TrainingLog.FileName)).Where(l => l.ContainsKey("loss")).Select(l => (int)l["step"]!).ToList();
        Assert.Equal(Enumerable.Range(1, (int)record["steps"]!), logged);

        // The next round reads the auxiliary iterate beside the policy it starts from.
        var next = await CliRunner.Run(Config, "train", "onpo", "mcts-arith", "--model", outDir, "--max-length", "4096", "--epochs", "1", "--out", "onpo-2");
        Assert.True(next.ExitCode == 0, next.Err);
        Assert.Contains($"auxiliary iterate π′_t {Path.Combine(outDir, "auxiliary")}", next.Out);

        var finished = await CliRunner.Run(Config, [.. args, "--resume"]);
        Assert.Equal(2, finished.ExitCode);
        Assert.Contains("nothing to resume", finished.Err);
    }
}

/// <summary>Standard formats in place of runs: TRL preference JSONL for DPO and ONPO, TPO lists for TPO.</summary>
public sealed class TrainFromFilesTests : TrainCliFixture
{
    public TrainFromFilesTests() : base("reasoner-files-") { }

    [Fact]
    public async Task ExportedFilesTrainLikeRunsAndABadLineNamesItsFileAndLine()
    {
        Assert.Equal(0, (await CliRunner.Run(Config, "generate", "--model", "reference:0.5", "--problems", "12", "--iterations", "4", "-k", "3")).ExitCode);
        var pairs = Path.Combine(_runs, "pairs.jsonl");
        var lists = Path.Combine(_runs, "lists.jsonl");
        Assert.Equal(0, (await CliRunner.Run(Config, "export", "mcts-arith", "--out", pairs)).ExitCode);
        Assert.Equal(0, (await CliRunner.Run(Config, "export", "mcts-arith", "--format", "tpo", "--out", lists)).ExitCode);
        string[] common = ["--model", _checkpoint.Path, "--max-length", "4096", "--batch", "2", "--epochs", "1", "--eval-fraction", "0"];

        foreach (var (method, file) in new[] { ("dpo", pairs), ("tpo", lists), ("onpo", pairs) })
        {
            var r = await CliRunner.Run(Config, ["train", method, file, .. common]);
            Assert.True(r.ExitCode == 0, $"{method}: {r.Err}");
            Assert.Contains("1 file(s)", r.Out);
            Assert.True(File.Exists(Path.Combine(_runs, $"{method}-{Path.GetFileNameWithoutExtension(file)}", "config.json")), method);
        }

        var bad = Path.Combine(_runs, "bad.jsonl");
        File.WriteAllLines(bad, [File.ReadLines(pairs).First(), "{\"prompt\": \"x\", \"chosen\": 3, \"rejected\": \"y\"}"]);
        var refused = await CliRunner.Run(Config, ["train", "dpo", bad, .. common]);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("bad.jsonl:2: 'chosen' must be a string", refused.Err);
        Assert.False(Directory.Exists(Path.Combine(_runs, "dpo-bad")) && File.Exists(Path.Combine(_runs, "dpo-bad", "config.json")));

        var trpa = await CliRunner.Run(Config, ["train", "trpa", pairs, .. common]);
        Assert.Equal(2, trpa.ExitCode);
        Assert.Contains("learns from runs", trpa.Err);
    }
}

/// <summary><c>--lora-rank</c>: every trainer writes a PEFT adapter folder that generate loads over its base model.</summary>
public sealed class TrainLoraCommandTests : TrainCliFixture
{
    public TrainLoraCommandTests() : base("reasoner-lora-") { }

    [Fact]
    public async Task EveryTrainerWritesAdaptersThatGenerateLoads()
    {
        Assert.Equal(0, (await CliRunner.Run(Config, "generate", "--model", "reference:0.5", "--problems", "12", "--iterations", "4", "-k", "3")).ExitCode);
        foreach (var method in new[] { "dpo", "tpo", "trpa", "onpo" })
        {
            var r = await CliRunner.Run(Config, "train", method, "mcts-arith", "--model", _checkpoint.Path, "--max-length", "4096", "--batch", "2",
                "--epochs", "1", "--eval-fraction", "0", "--lora-rank", "2", "--lr", "1e-2");
            Assert.True(r.ExitCode == 0, $"{method}: {r.Err}");
            var outDir = Path.Combine(_runs, $"{method}-mcts-arith");
            Assert.True(Reasoner.Models.LoraAdapters.IsAdapterFolder(outDir), method);
            var config = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, Reasoner.Models.LoraAdapters.ConfigFile)))!;
            Assert.Equal(method == "onpo" ? Path.Combine(outDir, "auxiliary") : Path.GetFullPath(_checkpoint.Path), (string)config["base_model_name_or_path"]!);
            var next = await CliRunner.Run(Config, "generate", "--model", outDir, "--problems", "1", "--iterations", "1", "--max-step-tokens", "4",
                "--depth-limit", "2", "--out", $"round-2-{method}");
            Assert.True(next.ExitCode == 0, $"{method}: {next.Err}");
        }
    }
}

/// <summary><c>train onpo --oracle judge</c>: the pairs ordered by a model's pairwise judgement.</summary>
public sealed class TrainOnpoJudgeCommandTests : TrainCliFixture
{
    public TrainOnpoJudgeCommandTests() : base("reasoner-judge-") { }

    [Fact]
    public async Task AJudgedRoundTrainsOnPairsThatIncludeTiesOfTheOutcomeOracle()
    {
        var config = Config;
        Assert.Equal(0, (await CliRunner.Run(config, "generate", "--model", "reference:0.5", "--problems", "6", "--iterations", "4")).ExitCode);
        var r = await CliRunner.Run(config, "train", "onpo", "mcts-arith", "--model", _checkpoint.Path, "--oracle", "judge", "--max-length", "4096",
            "--epochs", "1", "--eval-fraction", "0", "--out", "judged");
        Assert.True(r.ExitCode == 0, r.Err);
        Assert.Contains("judge oracle:", r.Out);
        // A model's judgement is never exactly ½, so no pair is a tie.
        Assert.Matches(@"\(0 ties", r.Out);
        Assert.True(File.Exists(Path.Combine(_runs, "judged", "config.json")));
    }
}

/// <summary><c>train onpo --fresh</c>: the round's solutions sampled from π_t rather than read from the trees.</summary>
public sealed class TrainOnpoFreshCommandTests : TrainCliFixture
{
    public TrainOnpoFreshCommandTests() : base("reasoner-onpo-fresh-") { }

    [Fact]
    public async Task FreshSamplesGiveEveryProblemItsKSolutionsAndEveryPairOfThem()
    {
        var config = Config;
        Assert.Equal(0, (await CliRunner.Run(config, "generate", "--model", "reference:0.5", "--problems", "6", "--iterations", "4")).ExitCode);
        new ModelPromptSettings { Prompt = PromptLibrary.SolveBare }.Save(_checkpoint.Path);
        string[] args = ["train", "onpo", "mcts-arith", "--model", _checkpoint.Path, "--oracle", "judge", "--max-length", "400", "--samples", "3",
            "--epochs", "1", "--eval-fraction", "0"];
        var r = await CliRunner.Run(config, [.. args, "--fresh", "--out", "fresh"]);
        Assert.True(r.ExitCode == 0, r.Err);
        // 6 problems × 3 sampled solutions: 3 pairs each, none a tie under a model's judgement.
        Assert.Contains("18 pairs from 6 problems (0 ties", r.Out);
        var record = JsonNode.Parse(File.ReadAllText(Path.Combine(_runs, "fresh", "onpo.json")))!;
        Assert.Equal(18, (int)record["train_pairs"]!);

        var files = Path.Combine(_runs, "prefs.jsonl");
        File.WriteAllText(files, "{\"prompt\": \"Question: 1 + 1?\\n\", \"chosen\": \"2\", \"rejected\": \"3\"}\n");
        var refused = await CliRunner.Run(config, "train", "onpo", files, "--model", _checkpoint.Path, "--fresh", "--out", "refused");
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("--fresh", refused.Err);
    }
}

/// <summary><c>train plv</c> on a best-first run: a verifier saved as token classification that the scorer engine loads.</summary>
public sealed class TrainPlvCommandTests : TrainCliFixture
{
    public TrainPlvCommandTests() : base("reasoner-plv-") { }

    [Fact]
    public async Task PlvWritesAVerifierThatTheScorerEngineLoads()
    {
        Assert.Equal(0, (await CliRunner.Run(Config, "generate", "--model", "reference:0.5", "--algo", "best-first", "--problems", "12", "--iterations", "6")).ExitCode);
        string[] args = ["train", "plv", "best-first-arith", "--model", _checkpoint.Path, "--max-length", "4096", "--batch", "2", "--epochs", "1", "--eval-fraction", "0"];
        // TRL stepwise JSONL in place of a run (export writes it from the same trees).
        var stepwise = Path.Combine(_runs, "stepwise.jsonl");
        Assert.Equal(0, (await CliRunner.Run(Config, "export", "best-first-arith", "--format", "trl-stepwise", "--out", stepwise)).ExitCode);
        var fromFile = await CliRunner.Run(Config, "train", "plv", stepwise, "--model", _checkpoint.Path, "--max-length", "4096", "--batch", "4", "--epochs", "1",
            "--eval-fraction", "0", "--out", "plv-stepwise");
        Assert.True(fromFile.ExitCode == 0, fromFile.Err + fromFile.Out);
        Assert.Contains("stepwise lines", fromFile.Out);
        Assert.True(File.Exists(Path.Combine(_runs, "plv-stepwise", "plv.json")));

        // With LoRA the verifier is a PEFT token-classification adapter over the policy, its head saved as modules_to_save.
        var lora = await CliRunner.Run(Config, [.. args, "--lora-rank", "2", "--out", "plv-lora"]);
        Assert.True(lora.ExitCode == 0, lora.Err);
        var loraDir = Path.Combine(_runs, "plv-lora");
        var adapterConfig = JsonNode.Parse(File.ReadAllText(Path.Combine(loraDir, "adapter_config.json")))!;
        Assert.Equal("TOKEN_CLS", (string)adapterConfig["task_type"]!);
        Assert.Equal("score", (string)adapterConfig["modules_to_save"]![0]!);
        using (var adapters = SafeTensorsReader.Open(Path.Combine(loraDir, "adapter_model.safetensors")))
            Assert.Contains("base_model.model.score.weight", adapters.Entries.Keys);
        using (var loraVerifier = Reasoner.Models.Scoring.ScorerEngine.Load(loraDir))
            Assert.All((await loraVerifier.ScoreStepsAsync("Question: What is 2 + 3?\n", [["2 + 3 = 5."]], "\n"))[0], v => Assert.True(double.IsFinite(v)));

        var r = await CliRunner.Run(Config, args);
        Assert.True(r.ExitCode == 0, r.Err);
        var outDir = Path.Combine(_runs, "plv-best-first-arith");
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "config.json")))!;
        Assert.Equal("LlamaForTokenClassification", (string)config["architectures"]![0]!);
        var record = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "plv.json")))!;
        Assert.Equal("plv", (string)record["method"]!);
        int steps = (int)record["steps"]!, pairs = (int)record["train_pairs"]!;
        Assert.True(pairs > 0);
        Assert.Equal((pairs + 1) / 2, steps);
        Assert.Equal(steps, TrainingLog.Read(Path.Combine(outDir, TrainingLog.FileName)).Count(l => l.ContainsKey("rewards/step_accuracy")));
        using var verifier = Reasoner.Models.Scoring.ScorerEngine.Load(outDir);
        var scores = await verifier.ScoreStepsAsync("Question: What is 2 + 3?\n", [["2 + 3 = 5.", "The answer is 5."]], "\n");
        Assert.Equal(2, scores[0].Length);
        Assert.All(scores[0], s => Assert.True(double.IsFinite(s)));

        // The verifier scores search's steps: every expanded step of a tree searched with it carries σ(score).
        var searched = await CliRunner.Run(Config, "generate", "--model", "reference:0.5", "--algo", "best-first", "--problems", "3", "--iterations", "4",
            "--rollouts", "2", "--verifier", outDir, "--out", "verified");
        Assert.True(searched.ExitCode == 0, searched.Err);
        using var store = Reasoner.Core.Storage.TreeStore.Open(Path.Combine(_runs, "verified"));
        var trees = store.ReadAll(_ => { }).ToList();
        Assert.Equal(3, trees.Count);
        Assert.All(trees, t => Assert.Equal(outDir, t.Search.Settings["verifier"]));
        var scored = trees.SelectMany(t => t.Nodes.Where(n => !n.IsRoot)).ToList();
        Assert.NotEmpty(scored);
        Assert.All(scored, n => Assert.InRange(n.VerifierScore!.Value, 0, 1));

        // Best-of-N: the verifier reranks eval's samples, beside majority vote, pass@N and the gold oracle.
        var report = Path.Combine(_runs, "best-of.json");
        var eval = await CliRunner.Run(Config, "eval", "--task", "arith", "--model", _checkpoint.Path, "--problems", "3", "--best-of", "2", "--verifier", outDir,
            "--aggregate", "product", "--max-tokens", "12", "--threads", "1", "--out", report);
        Assert.True(eval.ExitCode == 0, eval.Err);
        Assert.Contains("best-of-2", eval.Out);
        Assert.Contains("verifier pick", eval.Out);
        var saved = JsonNode.Parse(File.ReadAllText(report))!;
        Assert.Equal("product", (string)saved["run"]!["aggregate"]!);
        Assert.Equal(2, (int)saved["run"]!["k"]!);
        Assert.All(saved["problems"]!.AsArray(), p => Assert.NotNull(p!["verifierCorrect"]));
        Assert.NotNull(saved["summary"]!["verifierBestOfN"]);
        var refused = await CliRunner.Run(Config, "eval", "--task", "arith", "--model", _checkpoint.Path, "--best-of", "2");
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("--verifier", refused.Err);

        // The verifier as ONPO's preference oracle: a score difference is never exactly zero, so no pair is a tie.
        var onpo = await CliRunner.Run(Config, "train", "onpo", "best-first-arith", "--model", _checkpoint.Path, "--oracle", "verifier", "--verifier", outDir,
            "--max-length", "4096", "--epochs", "1", "--eval-fraction", "0", "--out", "onpo-verified");
        Assert.True(onpo.ExitCode == 0, onpo.Err);
        Assert.Contains("verifier oracle:", onpo.Out);
        Assert.Matches(@"\(0 ties", onpo.Out);
        var unpaired = await CliRunner.Run(Config, "train", "onpo", "best-first-arith", "--model", _checkpoint.Path, "--oracle", "verifier", "--out", "x");
        Assert.Equal(2, unpaired.ExitCode);
        Assert.Contains("--verifier", unpaired.Err);
    }
}

/// <summary><c>train oreo</c>: the policy and its value head in a side file, both loadable.</summary>
public sealed class TrainOreoCommandTests : TrainCliFixture
{
    public TrainOreoCommandTests() : base("reasoner-oreo-") { }

    [Fact]
    public async Task OreoWritesAPolicyThatLoadsAsItselfAndItsValueHeadBesideIt()
    {
        Assert.Equal(0, (await CliRunner.Run(Config, "generate", "--model", "reference:0.5", "--problems", "10", "--iterations", "4")).ExitCode);
        var r = await CliRunner.Run(Config, "train", "oreo", "mcts-arith", "--model", _checkpoint.Path, "--max-length", "4096", "--batch", "4", "--epochs", "1",
            "--eval-fraction", "0", "--save-every", "1");
        Assert.True(r.ExitCode == 0, r.Err);
        var outDir = Path.Combine(_runs, "oreo-mcts-arith");
        Assert.Contains("right and", r.Out);
        using (var stored = SafeTensorsReader.Open(Path.Combine(outDir, "model.safetensors")))
            Assert.DoesNotContain(stored.Entries.Keys, k => k.StartsWith("score."));
        using (var head = SafeTensorsReader.Open(Path.Combine(outDir, "value_head.safetensors")))
            Assert.Equal(["score.bias", "score.weight"], head.Entries.Keys.Order());
        using (var plain = CheckpointLoader.LoadModel(outDir))
            Assert.False(plain.HasScoreHead);
        using (var withValue = CheckpointLoader.LoadModel(outDir, withValueHead: true))
            Assert.True(withValue.HasScoreHead);
        var record = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "oreo.json")))!;
        Assert.Equal("oreo", (string)record["method"]!);

        // With LoRA: a PEFT adapter folder over the policy, the value head in its side file beside the adapters.
        var lora = await CliRunner.Run(Config, "train", "oreo", "mcts-arith", "--model", _checkpoint.Path, "--max-length", "4096", "--batch", "4", "--epochs", "1",
            "--eval-fraction", "0", "--lora-rank", "2", "--out", "oreo-lora");
        Assert.True(lora.ExitCode == 0, lora.Err);
        var loraDir = Path.Combine(_runs, "oreo-lora");
        Assert.True(File.Exists(Path.Combine(loraDir, "adapter_config.json")));
        Assert.True(File.Exists(Path.Combine(loraDir, "value_head.safetensors")));
        using (var merged = CheckpointLoader.LoadModel(loraDir, withValueHead: true))
            Assert.True(merged.HasScoreHead);
        Assert.Equal((int)record["steps"]!, TrainingLog.Read(Path.Combine(outDir, TrainingLog.FileName)).Count(l => l.ContainsKey("value_loss")));

        // Value-guided step beam search at test time, beside the plain beam and greedy decoding.
        var report = Path.Combine(_runs, "beam.json");
        var eval = await CliRunner.Run(Config, "eval", "--task", "arith", "--model", outDir, "--problems", "2", "--k", "1", "--beam", "2", "--value", outDir,
            "--max-tokens", "8", "--threads", "1", "--out", report);
        Assert.True(eval.ExitCode == 0, eval.Err);
        Assert.Contains("step beam search, width 2", eval.Out);
        var saved = JsonNode.Parse(File.ReadAllText(report))!;
        Assert.NotNull(saved["summary"]!["beam"]);
        Assert.NotNull(saved["summary"]!["valueBeam"]);
        Assert.Equal(outDir, (string)saved["run"]!["value"]!);
        var refused = await CliRunner.Run(Config, "eval", "--task", "arith", "--model", outDir, "--value", outDir);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("--beam", refused.Err);

        // --value-only: the value-guided beam alone, beside greedy (k 0), with the same value-beam outcomes.
        var valueOnlyReport = Path.Combine(_runs, "value-beam.json");
        var valueOnly = await CliRunner.Run(Config, "eval", "--task", "arith", "--model", outDir, "--problems", "2", "--k", "0", "--beam", "2", "--value", outDir,
            "--value-only", "--max-tokens", "8", "--threads", "1", "--out", valueOnlyReport);
        Assert.True(valueOnly.ExitCode == 0, valueOnly.Err);
        Assert.Contains("not run: --value-only", valueOnly.Out);
        var alone = JsonNode.Parse(File.ReadAllText(valueOnlyReport))!;
        Assert.Null(alone["summary"]!["beam"]);
        Assert.Equal(saved["summary"]!["valueBeam"]!.ToJsonString(), alone["summary"]!["valueBeam"]!.ToJsonString());
        var withoutValue = await CliRunner.Run(Config, "eval", "--task", "arith", "--model", outDir, "--beam", "2", "--value-only");
        Assert.Equal(2, withoutValue.ExitCode);
        Assert.Contains("--value", withoutValue.Err);
    }
}

/// <summary>A runs folder and a tiny checkpoint for one command-line training test, removed afterwards.</summary>
public abstract class TrainCliFixture(string prefix) : IDisposable
{
    protected readonly string _runs = Directory.CreateTempSubdirectory(prefix).FullName;
    protected readonly TinyCheckpoint _checkpoint = new();

    protected Dictionary<string, string?> Config => new() { ["RunsDir"] = _runs, ["Store:Fsync"] = "false" };

    public void Dispose()
    {
        Directory.Delete(_runs, recursive: true);
        _checkpoint.Dispose();
        GC.SuppressFinalize(this);
    }
}
