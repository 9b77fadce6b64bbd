using Reasoner.Core.Problems;
using Reasoner.Models;
using Reasoner.Training;
using Reasoner.Training.Evaluation;
using Reasoner.Training.Framework;

namespace Reasoner.Cli.Iteration;

/// <summary>
/// The on-policy loop (MCTS-DPO's rounds, TRPA's and ONPO's iterations): each round searches a fresh slice of train problems
/// with the current policy, trains on the round's trees, evaluates, and hands the result to the next round. Every stage is
/// one of the project's own resumable commands (generate, train METHOD, eval, report data), run in this process, so a
/// stage stopped by Ctrl-C, SIGTERM or kill -9 is continued by that command's own resume: generate skips the problems
/// already stored, a trainer resumes from its checkpoint, an evaluation not saved is run again. <c>iterate.json</c> says
/// which stage each round has reached; it moves on only after a stage's command has finished.
/// </summary>
public sealed class IterationRunner(string directory, IterationSettings settings, Func<string[], CancellationToken, Task<int>> runCommand)
{
    /// <summary>The trainer whose output is a verifier for the next round's search, not its policy (the rStar-Math pattern).</summary>
    public const string VerifierTrainer = "plv";

    public static readonly IReadOnlyList<string> Trainers = ["dpo", "tpo", "trpa", "onpo", "oreo", VerifierTrainer];

    public string Directory { get; } = Path.GetFullPath(directory);

    /// <summary>Told when a stage starts, before its command runs.</summary>
    public Action<int, RoundStage>? OnStage { get; init; }

    /// <summary>Told each round's summary line once it is evaluated.</summary>
    public Action<RoundState>? OnRoundDone { get; init; }

    bool IsVerifierTrainer => settings.Trainer == VerifierTrainer;

    /// <summary>Runs (or resumes) rounds up to <paramref name="rounds"/>; 0 when all are done, else the stopped or failed stage's exit code.</summary>
    public async Task<(int ExitCode, IterationState State)> RunAsync(int rounds, bool force, CancellationToken cancel)
    {
        var state = Open(force);
        for (int r = 0; r <= rounds; r++)
        {
            if (state.Rounds.Count == r)
            {
                // Saved at once, so iterate.json names the round under way even when its first stage is stopped.
                state.Rounds.Add(NewRound(state, r));
                state.Save(Directory);
            }
            var round = state.Rounds[r];
            while (round.Stage != RoundStage.Done)
            {
                // A stop between two stages: nothing is running, and the state already says where to go on.
                if (cancel.IsCancellationRequested) return (130, state);
                OnStage?.Invoke(r, round.Stage);
                int code = round.Stage switch
                {
                    RoundStage.Search => await SearchAsync(round, cancel),
                    RoundStage.Train => await TrainAsync(round, state, cancel),
                    _ => await EvaluateAsync(round, cancel),
                };
                if (code != 0) return (code, state);
                round.Stage = round.Stage + 1;
                state.Save(Directory);
            }
            if (r > 0 || round.Greedy is not null) OnRoundDone?.Invoke(round);
        }
        return (0, state);
    }

    IterationState Open(bool force)
    {
        if (force && System.IO.Directory.Exists(Directory)) System.IO.Directory.Delete(Directory, recursive: true);
        var state = IterationState.Load(Directory);
        if (state is null)
        {
            if (System.IO.Directory.Exists(Directory) && System.IO.Directory.EnumerateFileSystemEntries(Directory).Any())
                throw new Hosting.UserError($"{Directory} holds files but no {IterationState.FileName}: choose another --out, or --force to replace it");
            state = new IterationState { Settings = settings };
            state.Save(Directory);
            return state;
        }
        if (state.Settings.FirstDifference(settings) is { } difference)
            throw new Hosting.UserError($"{Directory} was started with other settings ({difference}): give the same options to resume it, or --force to start over");
        return state;
    }

    RoundState NewRound(IterationState state, int r)
    {
        string Folder(string name) => Path.Combine(Directory, $"round-{r}", name);
        if (r == 0) return new RoundState { Round = 0, Stage = RoundStage.Evaluate, Policy = settings.Model, Eval = Folder("eval.json") };
        var previous = state.Rounds[r - 1];
        return new RoundState
        {
            Round = r,
            Stage = RoundStage.Search,
            // The verifier trainer keeps the policy and hands its verifier on; every other trainer hands its model on.
            Policy = IsVerifierTrainer || r == 1 ? settings.Model : previous.Model!,
            Verifier = IsVerifierTrainer && r > 1 ? previous.Model : null,
            Trees = Folder("trees"),
            Model = Folder(IsVerifierTrainer ? "verifier" : "model"),
            Eval = Folder("eval.json"),
            DataQuality = TaskFamilies.Get(settings.Task).IsBuiltin && settings.Data is null ? Folder("data-quality.json") : null,
        };
    }

    Task<int> SearchAsync(RoundState round, CancellationToken cancel)
    {
        var args = new List<string>
        {
            "generate", "--task", settings.Task, "--problems", $"{settings.ProblemsPerRound}", "--skip", $"{(round.Round - 1) * settings.ProblemsPerRound}",
            "--algo", settings.Algorithm, "--model", round.Policy, "--seed", $"{settings.Seed}", "--out", round.Trees!,
        };
        if (settings.Data is { } data) args.AddRange(["--data", data]);
        else args.AddRange(["--split", "train", "--difficulty", $"{settings.Difficulty}"]);
        if (round.Verifier is { } verifier) args.AddRange(["--verifier", verifier]);
        return runCommand([.. args, .. settings.GenerateArgs], cancel);
    }

    Task<int> TrainAsync(RoundState round, IterationState state, CancellationToken cancel)
    {
        var model = round.Model!;
        if (Finished(model)) return Task.FromResult(0); // stopped after the trainer saved, before the state said so
        IEnumerable<string> trees = settings.AllRounds ? state.Rounds.Where(r => r.Round >= 1 && r.Round <= round.Round).Select(r => r.Trees!) : [round.Trees!];
        List<string> args = ["train", settings.Trainer, .. trees, "--model", round.Policy, "--out", model, "--seed", $"{settings.Seed}"];
        if (Started(model)) args.Add("--resume");
        else if (System.IO.Directory.Exists(model)) args.Add("--force"); // stopped before its first checkpoint: nothing worth keeping
        return runCommand([.. args, .. settings.TrainArgs], cancel);
    }

    async Task<int> EvaluateAsync(RoundState round, CancellationToken cancel)
    {
        if (!File.Exists(round.Eval))
        {
            var verifier = IsVerifierTrainer && round.Round > 0 ? round.Model : null;
            var args = new List<string>
            {
                "eval", "--task", settings.Task, "--problems", $"{settings.EvalProblems}", "--k", $"{settings.EvalK}", "--seed", $"{settings.Seed}",
                "--model", verifier is null && round.Round > 0 ? round.Model! : round.Policy, "--out", round.Eval,
            };
            if (settings.Data is { } data) args.AddRange(["--data", data]);
            else if (TaskFamilies.Get(settings.Task).IsBuiltin) args.AddRange(["--difficulty", $"{settings.Difficulty}"]);
            if (verifier is not null) args.AddRange(["--best-of", $"{settings.EvalK}", "--verifier", verifier]);
            int code = await runCommand([.. args, .. settings.EvalArgs], cancel);
            if (code != 0) return code;
        }
        if (round.DataQuality is { } quality && !File.Exists(quality))
        {
            int code = await runCommand(["report", "data", round.Trees!, "--json", quality], cancel);
            if (code != 0) return code;
        }
        var summary = EvalReport.Load(round.Eval).Summary;
        (round.Greedy, round.GreedyLow, round.GreedyHigh) = (summary.Greedy.Value, summary.Greedy.Interval.Low, summary.Greedy.Interval.High);
        round.VerifierPick = summary.VerifierBestOfN?.Value;
        return 0;
    }

    /// <summary>A trainer's output folder holds a saved model and no checkpoint of an unfinished run (ONPO: neither of its two fits).</summary>
    static bool Finished(string folder) =>
        (File.Exists(Path.Combine(folder, "config.json")) || File.Exists(Path.Combine(folder, LoraAdapters.ConfigFile))) && !Started(folder);

    static bool Started(string folder) =>
        TrainingCheckpoint.Exists(Path.Combine(folder, TrainingRun.CheckpointFolder))
        || TrainingCheckpoint.Exists(Path.Combine(folder, Commands.OnpoCommand.AuxiliaryFolder, TrainingRun.CheckpointFolder));
}
