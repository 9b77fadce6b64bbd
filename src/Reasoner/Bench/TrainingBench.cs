using Reasoner.Core.Judging;
using Reasoner.Core.Problems;
using Reasoner.Core.Prompts;
using Reasoner.Core.Tasks;
using Reasoner.Models;
using Reasoner.Models.Checkpoints;
using Reasoner.Training;
using Reasoner.Training.Batching;
using Reasoner.Training.Framework;
using Reasoner.Training.Onpo;
using Reasoner.Training.Oreo;
using Reasoner.Training.Plv;
using Reasoner.Training.Preference;
using Reasoner.Training.Tpo;
using Reasoner.Training.Trpa;
using static TorchSharp.torch;

namespace Reasoner.Cli.Bench;

/// <summary>One trainer's optimizer-step throughput: real tokens and model FLOPs per second of step time; <see cref="Bf16"/> for mixed precision.</summary>
sealed record TrainingBenchRow(string Method, int Steps, long Tokens, double Seconds, double ModelFlops, bool Bf16 = false)
{
    public double TokensPerSecond => Tokens / Seconds;

    public double FlopsPerSecond => ModelFlops / Seconds;
}

/// <summary>
/// Optimizer steps of pretraining and of every trainer on the same model and the same solutions: the fixed test
/// sets' reference solutions, with corrupted copies (<see cref="StepCorruptor"/>) as the worse sides, lists and
/// group members. Only the steps are timed: collation and the trainers' one-off reference pass are not.
/// </summary>
sealed class TrainingBench
{
    private sealed record Solutions(string ProblemId, int[] Prompt, int[] Reference, int[][] Corrupted);

    private readonly string modelDirectory;
    private readonly Device device;
    private readonly List<Solutions> solutions = [];

    public TrainingBench(string modelDirectory, Device device, PromptLibrary prompts, int problems, int seed)
    {
        this.modelDirectory = modelDirectory;
        this.device = device;
        var tokenizer = CheckpointLoader.LoadTokenizer(modelDirectory);
        var random = new Random(seed);
        foreach (var problem in BuiltinTasks.Names.SelectMany(t => BuiltinTasks.TestSet(t).Take(problems / 2)))
        {
            var corrupted = Enumerable.Range(0, 3).Select(_ => StepCorruptor.Any(problem, random)).OfType<Corruption>()
                .Select(c => Encode(problem, problem.ReferenceSteps!.Select((s, i) => i == c.StepIndex ? c.Step : s), tokenizer)).ToArray();
            if (corrupted.Length < 3) continue;
            solutions.Add(new Solutions(problem.Id, tokenizer.Encode(prompts.RenderSolve(problem, bare: true)),
                Encode(problem, problem.ReferenceSteps!, tokenizer), corrupted));
        }
    }

    public int Examples => solutions.Count;

    private static int[] Encode(Problem problem, IEnumerable<string> steps, Models.Tokenization.ITextTokenizer tokenizer) =>
        [.. tokenizer.Encode(string.Join("\n", steps)), tokenizer.EosId];

    /// <summary>Pretraining's step: the cross-entropy of solution tokens, <paramref name="batch"/> sequences per step.</summary>
    public TrainingBenchRow Pretraining(int batch) => Pretraining(batch, bf16: false);

    /// <summary>The same steps in mixed precision, as <c>pretrain --matmul bf16</c> trains.</summary>
    public TrainingBenchRow PretrainingBf16(int batch) => Pretraining(batch, bf16: true);

    private TrainingBenchRow Pretraining(int batch, bool bf16)
    {
        using var model = CheckpointLoader.Load(modelDirectory, device).Model;
        model.MatmulDtype = bf16 ? ScalarType.BFloat16 : null;
        using var trainer = new Trainer(model, new TrainerOptions { LearningRate = 1e-4, WarmupSteps = 0, TotalSteps = 1_000_000 });
        long parameters = model.ParameterCount(), tokens = 0;
        double seconds = 0, flops = 0;
        int steps = 0;
        foreach (var chunk in solutions.Chunk(batch))
        {
            var sequences = chunk.Select(s => new TrainingSequence([.. s.Prompt, .. s.Reference], s.Prompt.Length)).ToArray();
            using var tokenBatch = TokenBatch.Collate(sequences, model.Config.EosTokenIds[0], device);
            var step = trainer.TrainStep([tokenBatch], b => SequenceLogProbs.Compute(model, b).MeanNegativeLogLikelihood());
            (seconds, tokens, steps) = (seconds + step.Duration.TotalSeconds, tokens + step.Tokens, steps + 1);
            flops += TrainingFlops.ForSequences(model.Config, parameters, sequences.Select(s => s.Length));
        }
        return new TrainingBenchRow(bf16 ? "pretraining, bf16 matmuls" : "pretraining", steps, tokens, seconds, flops, bf16);
    }

    public TrainingBenchRow Dpo(int batch)
    {
        TokenizedPair[] pairs = [.. solutions.Select(s => new TokenizedPair(s.ProblemId, s.Prompt, s.Reference, s.Corrupted[0], 1, 1))];
        return Run("step-level DPO", (model, onStep) =>
        {
            new StepDpoTrainer(model, Pad(model), Once(new DpoSettings { Batch = batch })) { OnStep = (s, _, _) => onStep(s) }.Train(pairs, []);
            return pairs.Select(p => new[] { p.Prompt.Length + p.Chosen.Length, p.Prompt.Length + p.Rejected.Length });
        });
    }

    public TrainingBenchRow Tpo(int batch)
    {
        TokenizedList[] lists = [.. solutions.Select(s => new TokenizedList(s.ProblemId, s.Prompt,
            [new TokenizedBranch(s.Reference, [s.Reference.Length], 1), .. s.Corrupted.Select((c, i) => new TokenizedBranch(c, [c.Length], -i))]))];
        return Run("TPO (paper, step weights)", (model, onStep) =>
        {
            new TpoTrainer(model, Pad(model), Once(new TpoSettings { Batch = batch })) { OnStep = (s, _, _) => onStep(s) }.Train(lists, []);
            return lists.Select(l => l.Branches.Select(b => l.Prompt.Length + b.Tokens.Length));
        });
    }

    public TrainingBenchRow Trpa(int batch)
    {
        SolutionGroup[] groups = [.. solutions.Select(s => new SolutionGroup(s.ProblemId, s.Prompt,
            [new LeveledSolution(s.Reference, 1), .. s.Corrupted.Select(c => new LeveledSolution(c, 2))]))];
        return Run("TRPA", (model, onStep) =>
        {
            new TrpaTrainer(model, Pad(model), Once(new TrpaSettings { Batch = batch })) { OnStep = (s, _, _) => onStep(s) }.Train(groups, []);
            return groups.Select(g => g.Solutions.Select(x => g.Prompt.Length + x.Tokens.Length));
        });
    }

    public TrainingBenchRow Onpo(int batch)
    {
        TokenizedPair[] pairs = [.. solutions.Select(s => new TokenizedPair(s.ProblemId, s.Prompt, s.Reference, s.Corrupted[0], 1, 1))];
        return Run("ONPO (one of its two fits)", (model, onStep) =>
        {
            new OnpoTrainer(model, Pad(model), Once(new OnpoSettings { Batch = batch })) { OnStep = (s, _, _) => onStep(s) }.Train(pairs, []);
            return pairs.Select(p => new[] { p.Prompt.Length + p.Chosen.Length, p.Prompt.Length + p.Rejected.Length });
        });
    }

    public TrainingBenchRow Plv(int batch)
    {
        // Each solution as one step: the verifier reads its score at the end of both sides.
        PlvPair[] pairs = [.. solutions.Select(s => new PlvPair(s.ProblemId, s.Prompt, [s.Reference], [s.Corrupted[0]]))];
        return Run("Tree-PLV verifier", (model, onStep) =>
        {
            using var scorer = CausalLanguageModel.ScorerFrom(model);
            new PlvTrainer(scorer, Pad(model), Once(new PlvSettings { Batch = batch })) { OnStep = (s, _, _) => onStep(s) }.Train(pairs, []);
            return pairs.Select(p => new[] { p.Prompt.Length + p.Chosen[0].Length, p.Prompt.Length + p.Rejected[0].Length });
        });
    }

    public TrainingBenchRow Oreo(int batch)
    {
        OreoPath[] paths = [.. solutions.SelectMany(s => new[] { new OreoPath(s.ProblemId, s.Prompt, [s.Reference], 1), new OreoPath(s.ProblemId, s.Prompt, [s.Corrupted[0]], 0) })];
        return Run("OREO (reference forward not counted)", (model, onStep) =>
        {
            using var reference = CheckpointLoader.Load(modelDirectory, device).Model;
            model.AttachValueHead();
            new OreoTrainer(model, reference, Pad(model), Once(new OreoSettings { Batch = batch })) { OnStep = (s, _, _) => onStep(s) }.Train(paths, []);
            return paths.Select(p => new[] { p.Length });
        });
    }

    private static int Pad(CausalLanguageModel model) => model.Config.EosTokenIds[0];

    /// <summary>One pass, nothing held out, a small step (the weights' values do not change the speed).</summary>
    private static T Once<T>(T settings) where T : PolicyTrainingSettings => settings with { Epochs = 1, EvalFraction = 0, LearningRate = 1e-5 };

    /// <param name="train">Trains a fresh copy of the model, reporting each step, and returns every example's row lengths.</param>
    private TrainingBenchRow Run(string name, Func<CausalLanguageModel, Action<StepResult>, IEnumerable<IEnumerable<int>>> train)
    {
        using var model = CheckpointLoader.Load(modelDirectory, device).Model;
        long tokens = 0;
        double seconds = 0;
        int steps = 0;
        var rows = train(model, step => (seconds, tokens, steps) = (seconds + step.Duration.TotalSeconds, tokens + step.Tokens, steps + 1)).ToList();
        long parameters = model.ParameterCount();
        return new TrainingBenchRow(name, steps, tokens, seconds, rows.Sum(lengths => TrainingFlops.ForSequences(model.Config, parameters, lengths)));
    }
}
