using Reasoner.Cli;
using Reasoner.Cli.Iteration;
using Reasoner.Core.Storage;
using Reasoner.Models.Checkpoints;
using Reasoner.Tests.Models;
using Reasoner.Training.Evaluation;

namespace Reasoner.Tests.Cli;

/// <summary>iterate on a tiny random-weight checkpoint: the stage machine, its resume, and its refusals.</summary>
public sealed class IterateTests
{
    static string TinyPolicy(string root)
    {
        var folder = Path.Combine(root, "tiny");
        using (var model = TinyModels.Create(TinyModels.Config(vocabSize: TinyModels.ArithmeticTokenizer.VocabSize), seed: 21))
            CheckpointWriter.Save(model, TinyModels.ArithmeticTokenizer, folder);
        new ModelPromptSettings { Prompt = Core.Prompts.PromptLibrary.SolveBare }.Save(folder);
        return folder;
    }

    static IterationSettings Tiny(string model) => new()
    {
        Trainer = "dpo",
        Task = "arith",
        Difficulty = 1,
        Model = model,
        ProblemsPerRound = 2,
        Algorithm = "mcts",
        Seed = 5,
        EvalProblems = 2,
        EvalK = 1,
        GenerateArgs = ["--iterations", "2", "--workers", "1", "--max-step-tokens", "6", "--depth-limit", "3", "--oversampling", "2"],
        TrainArgs = ["--epochs", "1", "--eval-fraction", "0", "--batch", "2", "--threads", "1"],
        EvalArgs = ["--max-tokens", "12", "--threads", "1"],
    };

    static Task<int> Run(string[] args, CancellationToken cancel) => ReasonerApp.RunAsync(args, new StringWriter(), new StringWriter(), cancel: cancel);

    /// <summary>Every round's model weights as one vector, to compare two runs' models to float rounding.</summary>
    static float[] Weights(string directory, int rounds) =>
        [.. Enumerable.Range(1, rounds).SelectMany(r =>
        {
            using var model = CheckpointLoader.LoadModel(Path.Combine(directory, $"round-{r}", "model"));
            return model.parameters().SelectMany(p => p.data<float>().ToArray()).ToArray();
        })];

    /// <summary>What a finished run holds, in a form two runs can be compared by: every tree's nodes, every evaluation's outcomes.</summary>
    static List<string> Contents(string directory, int rounds)
    {
        var contents = new List<string>();
        for (int r = 0; r <= rounds; r++)
        {
            var round = Path.Combine(directory, $"round-{r}");
            contents.AddRange(EvalReport.Load(Path.Combine(round, "eval.json")).Problems.Select(p => $"{p.ProblemId} {p.GreedyText} {p.GreedyCorrect}"));
            if (r == 0) continue;
            // Trees node for node (shape and step texts) and weights to float rounding: libtorch's sums may round differently
            // when parallel tests change its thread count, which moves values in their last digits and nothing else.
            using (var store = TreeStore.Open(Path.Combine(round, "trees")))
                contents.AddRange(store.ReadAll(_ => throw new InvalidDataException("damaged store")).OrderBy(t => t.Problem.Id)
                    .Select(t => $"{t.Problem.Id} {t.Status} {string.Join('|', t.Nodes.Select(n => $"{n.Id}/{n.ParentId}/{n.Text}"))}"));

        }
        return contents;
    }

    [Fact]
    public async Task ARunStoppedAtEveryStageAndAfterEveryStageEndsAsAnUninterruptedOne()
    {
        using var dir = new TestData.TempDirectory();
        var settings = Tiny(TinyPolicy(dir.Path));
        const int rounds = 2;
        var whole = Path.Combine(dir.Path, "whole");
        var (code, state) = await new IterationRunner(whole, settings, Run).RunAsync(rounds, force: false, CancellationToken.None);
        Assert.Equal(0, code);
        Assert.All(state.Rounds, r => Assert.Equal(RoundStage.Done, r.Stage));
        Assert.Equal(state.Rounds[1].Model, state.Rounds[2].Policy); // round 2 searched with round 1's model

        // Every stage of every round (round 0's evaluation, then search, train and evaluate of rounds 1 and 2), stopped three
        // times: as it starts (its command stopped before doing anything), while its command runs (Ctrl-C at its first
        // output), and after its command has finished but before iterate.json says so (kill -9 in that window). Each time the same runner is started again, as the same command would be.
        var stopped = Path.Combine(dir.Path, "stopped");
        var stages = new List<(int, RoundStage)> { (0, RoundStage.Evaluate) };
        for (int r = 1; r <= rounds; r++) stages.AddRange([(r, RoundStage.Search), (r, RoundStage.Train), (r, RoundStage.Evaluate)]);
        int stops = 0;
        foreach (var target in stages)
        {
            foreach (var stop in new[] { Stop.Before, Stop.During, Stop.After })
            {
                // A command with nothing to stop (eval) finishes its stage under Ctrl-C; there is then no "after" left to stop.
                var saved = IterationState.Load(stopped);
                if (stop == Stop.After && saved is { Rounds.Count: > 0 } && (saved.Rounds.Count - 1, saved.Rounds[^1].Stage) != target) continue;
                var current = (-1, RoundStage.Done);
                using var cancel = new CancellationTokenSource();
                var runner = new IterationRunner(stopped, settings, async (args, token) =>
                {
                    if (current != target) return await Run(args, token);
                    switch (stop)
                    {
                        case Stop.Before:
                            return 130;
                        case Stop.During:
                            // Ctrl-C as soon as the command says anything: it stops as it does on a signal, or finishes if it has nothing to stop.
                            var said = new CancelOnWrite(cancel);
                            return await ReasonerApp.RunAsync(args, said, said, cancel: cancel.Token);
                        default:
                            Assert.Equal(0, await Run(args, token));
                            return 137;
                    }
                })
                {
                    OnStage = (r, s) => current = (r, s),
                };
                var (stoppedCode, stoppedState) = await runner.RunAsync(rounds, force: false, cancel.Token);
                if (stop == Stop.During && stoppedCode == 0) continue; // the last stage, finished under the Ctrl-C it had nothing to stop for
                Assert.NotEqual(0, stoppedCode);
                if (stop != Stop.During) Assert.Equal(target, (stoppedState.Rounds.Count - 1, stoppedState.Rounds[^1].Stage));
                stops++;
            }
        }
        var (finalCode, finalState) = await new IterationRunner(stopped, settings, Run).RunAsync(rounds, force: false, CancellationToken.None);

        Assert.Equal(0, finalCode);
        Assert.InRange(stops, 2 * stages.Count, 3 * stages.Count);
        Assert.Equal(Contents(whole, rounds), Contents(stopped, rounds));
        var (expected, actual) = (Weights(whole, rounds), Weights(stopped, rounds));
        Assert.Equal(expected.Length, actual.Length);
        Assert.True(expected.Zip(actual).All(w => Math.Abs(w.First - w.Second) < 1e-4), "the models differ beyond float rounding");
        Assert.Equal(state.Rounds.Select(r => r.Greedy), finalState.Rounds.Select(r => r.Greedy));
    }

    enum Stop { Before, During, After }

    /// <summary>Output that cancels a token at its first write: a stop while the command is at work, at a point its own output fixes.</summary>
    sealed class CancelOnWrite(CancellationTokenSource cancel) : StringWriter
    {
        public override void Write(char value)
        {
            cancel.Cancel();
            base.Write(value);
        }

        public override void Write(string? value)
        {
            cancel.Cancel();
            base.Write(value);
        }

        public override void Write(char[] buffer, int index, int count)
        {
            cancel.Cancel();
            base.Write(buffer, index, count);
        }

        public override void Write(ReadOnlySpan<char> buffer)
        {
            cancel.Cancel();
            base.Write(buffer);
        }
    }

    [Fact]
    public async Task AResumeWithOtherSettingsIsRefusedAndForceStartsOver()
    {
        using var dir = new TestData.TempDirectory();
        var settings = Tiny(TinyPolicy(dir.Path));
        var run = Path.Combine(dir.Path, "run");
        new IterationState { Settings = settings }.Save(run);

        var error = await Assert.ThrowsAsync<Reasoner.Cli.Hosting.UserError>(() =>
            new IterationRunner(run, settings with { ProblemsPerRound = 3 }, Run).RunAsync(1, force: false, CancellationToken.None));
        Assert.Contains("problems_per_round: 2 then, 3 now", error.Message);

        Directory.CreateDirectory(Path.Combine(dir.Path, "other"));
        File.WriteAllText(Path.Combine(dir.Path, "other", "notes.txt"), "mine");
        var occupied = await Assert.ThrowsAsync<Reasoner.Cli.Hosting.UserError>(() =>
            new IterationRunner(Path.Combine(dir.Path, "other"), settings, Run).RunAsync(1, force: false, CancellationToken.None));
        Assert.Contains("holds files but no iterate.json", occupied.Message);

        // --force: the old state goes, and the new settings start round 0 afresh (stopped at once here).
        var seen = new List<(int, RoundStage)>();
        var (code, state) = await new IterationRunner(run, settings with { ProblemsPerRound = 3 }, (_, _) => Task.FromResult(130)) { OnStage = (r, s) => seen.Add((r, s)) }
            .RunAsync(1, force: true, CancellationToken.None);
        Assert.Equal(130, code);
        Assert.Equal([(0, RoundStage.Evaluate)], seen);
        Assert.Equal(3, IterationState.Load(run)!.Settings.ProblemsPerRound);
    }

    [Fact]
    public async Task TheVerifierTrainerKeepsThePolicyAndHandsItsVerifierToTheNextRoundsSearch()
    {
        using var dir = new TestData.TempDirectory();
        var settings = Tiny(Path.Combine(dir.Path, "policy")) with { Trainer = "plv", Algorithm = "best-first" };
        var commands = new List<string[]>();
        var runner = new IterationRunner(Path.Combine(dir.Path, "run"), settings, (args, _) =>
        {
            commands.Add(args);
            // Scripted commands: eval writes a report, the others succeed without doing anything.
            if (args[0] == "eval") Directory.CreateDirectory(Path.GetDirectoryName(args[Array.IndexOf(args, "--out") + 1])!);
            if (args[0] == "eval") File.WriteAllText(args[Array.IndexOf(args, "--out") + 1], EvalReport.Create(
                new EvalRun("arith", 1, null, settings.Model, "solve-bare", 1, 1, 1.0, 1.0, 12, 5), []).ToJson());
            if (args[0] == "report") File.WriteAllText(args[^1], "{}");
            return Task.FromResult(0);
        });

        var (code, state) = await runner.RunAsync(2, force: false, CancellationToken.None);

        Assert.Equal(0, code);
        Assert.All(state.Rounds, r => Assert.Equal(settings.Model, r.Policy));
        var searches = commands.Where(c => c[0] == "generate").ToArray();
        Assert.DoesNotContain("--verifier", searches[0]);
        Assert.Equal(state.Rounds[1].Model, searches[1][Array.IndexOf(searches[1], "--verifier") + 1]);
        Assert.Equal(["--skip", "0"], searches[0].SkipWhile(a => a != "--skip").Take(2));
        Assert.Equal(["--skip", "2"], searches[1].SkipWhile(a => a != "--skip").Take(2));
        var evals = commands.Where(c => c[0] == "eval").ToArray();
        Assert.DoesNotContain("--verifier", evals[0]);
        Assert.Equal(state.Rounds[2].Model, evals[2][Array.IndexOf(evals[2], "--verifier") + 1]);
        Assert.Equal(["train", "plv", state.Rounds[2].Trees!, "--model", settings.Model], commands.First(c => c[0] == "train" && c.Contains(state.Rounds[2].Trees)).Take(5));
    }
}
