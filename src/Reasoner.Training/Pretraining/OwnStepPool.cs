using System.Text.Json;
using Reasoner.Core.Judging;
using Reasoner.Core.Problems;
using Reasoner.Core.Tasks;
using Reasoner.Models;
using Reasoner.Models.Backends;
using Reasoner.Models.Generation;
using Reasoner.Models.Tokenization;
using Reasoner.Training.Evaluation;

namespace Reasoner.Training.Pretraining;

/// <summary>
/// Self-evaluation examples on the model's own steps: solutions it samples for built-in problems, split into steps,
/// each step labelled by the gold step judge in the context of the steps the model wrote before it. These are the steps
/// MCTS's self-evaluation term judges, and the model's own errors (a link bound to the wrong category, a wrong digit
/// carried) are not the ones <see cref="StepCorruptor"/> makes from reference steps: a model taught on corruptions
/// alone judges corruptions well and its own steps barely better than chance (docs/pretraining-experiments.md). A
/// pool is sampled once, at the step a run's own-step phase starts, and saved in the run folder, so a resumed run
/// trains on the same examples.
/// </summary>
public sealed class OwnStepPool
{
    /// <summary>The pool's file in a run folder: one example per line, JSON.</summary>
    public const string FileName = "own-steps.jsonl";

    /// <summary>Examples of problems from this split are trained on; of <see cref="TestSplit"/> only measured.</summary>
    public const string TrainSplit = "train", TestSplit = "test";

    /// <summary>Sampling temperature: search's proposal temperature, so the pool holds the steps search would see.</summary>
    public const double Temperature = 1.0;

    private readonly Dictionary<(string Split, string Task), (Problem Problem, SelfEvalExample Example)[][]> _byClass;

    public OwnStepPool(IEnumerable<Entry> entries)
    {
        Entries = entries.ToArray();
        _byClass = Entries.GroupBy(e => (e.Split, e.Problem.Family))
            .ToDictionary(g => g.Key, g => new[] { g.Where(e => e.Example.Sound).Select(e => (e.Problem, e.Example)).ToArray(),
                g.Where(e => !e.Example.Sound).Select(e => (e.Problem, e.Example)).ToArray() });
    }

    /// <summary>One judged step and the split its problem comes from.</summary>
    public sealed record Entry(string Split, Problem Problem, SelfEvalExample Example);

    public IReadOnlyList<Entry> Entries { get; }

    /// <summary>Sound and unsound examples of a split and task.</summary>
    public (int Sound, int Unsound) Count(string split, string task) =>
        _byClass.TryGetValue((split, task), out var classes) ? (classes[0].Length, classes[1].Length) : (0, 0);

    /// <summary>A training example of <paramref name="task"/>: sound or unsound with even odds (the model's steps are mostly one kind), null when the task has none.</summary>
    public (Problem Problem, SelfEvalExample Example)? Draw(string task, Random random)
    {
        if (!_byClass.TryGetValue((TrainSplit, task), out var classes)) return null;
        var pick = classes[random.Next(2)];
        if (pick.Length == 0) pick = classes[0].Length > 0 ? classes[0] : classes[1];
        return pick.Length == 0 ? null : pick[random.Next(pick.Length)];
    }

    /// <summary>The measured (test-split) examples per task, for <see cref="SelfEvalMonitor"/>.</summary>
    public Dictionary<string, IReadOnlyList<(Problem, SelfEvalExample)>> HeldOut() =>
        Entries.Where(e => e.Split == TestSplit).GroupBy(e => e.Problem.Family)
            .ToDictionary(g => g.Key, g => (IReadOnlyList<(Problem, SelfEvalExample)>)g.Select(e => (e.Problem, e.Example)).ToArray());

    /// <summary>
    /// Samples <paramref name="samples"/> solutions per problem from the live weights (fp32, as search decodes) and judges
    /// their steps. Identical (problem, prefix, step) triples count once, as a search tree holds a step once.
    /// </summary>
    public static OwnStepPool Sample(CausalLanguageModel model, ITextTokenizer tokenizer, SolutionCorpus corpus,
        IReadOnlyList<(string Split, Problem Problem)> problems, int samples, int maxTokens, int seed, Action<int>? onProblemsDone = null)
    {
        using var engine = new TorchEngine(model, tokenizer, "training", new TorchEngineOptions { PrefixCacheTokens = 0 });
        var entries = new List<Entry>();
        var seen = new HashSet<string>();
        int done = 0;
        // A few dozen problems at a time: the engine decodes concurrent requests as rows of one forward pass.
        foreach (var chunk in problems.Select((p, i) => (p.Split, p.Problem, Index: i)).Chunk(32))
        {
            var completions = Task.WhenAll(chunk.Select(x => engine.CompleteAsync(
                new CompletionRequest(corpus.Prompt(x.Problem), samples, maxTokens) { Temperature = Temperature, Seed = seed + x.Index }))).GetAwaiter().GetResult();
            for (int i = 0; i < chunk.Length; i++)
                foreach (var completion in completions[i])
                    entries.AddRange(Judge(chunk[i].Split, chunk[i].Problem, completion.Text).Where(e => seen.Add(Key(e))));
            onProblemsDone?.Invoke(done += chunk.Length);
        }
        return new OwnStepPool(entries);
    }

    /// <summary>Every step of a sampled solution as an example, labelled in the context of the steps before it.</summary>
    public static IEnumerable<Entry> Judge(string split, Problem problem, string solution)
    {
        var steps = Evaluator.Steps(solution);
        if (steps.Count == 0) yield break;
        var judgements = StepJudges.For(problem).JudgeSolution(steps);
        for (int i = 0; i < steps.Count; i++)
            yield return new Entry(split, problem, new SelfEvalExample(problem.Id, steps.Take(i).ToArray(), steps[i], judgements[i].IsSound));
    }

    public void Save(string path)
    {
        var temporary = path + ".tmp";
        using (var writer = new StreamWriter(temporary))
            foreach (var e in Entries)
                writer.WriteLine(JsonSerializer.Serialize(new Line(e.Split, e.Problem.Family, e.Problem.Id, e.Example.Prefix, e.Example.Step, e.Example.Sound), Json));
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Reads a saved pool; <paramref name="problems"/> are the problems it was sampled on (regenerated from the same seeds).</summary>
    public static OwnStepPool Load(string path, IReadOnlyList<(string Split, Problem Problem)> problems)
    {
        var byId = problems.GroupBy(p => (p.Split, p.Problem.Id)).ToDictionary(g => g.Key, g => g.First().Problem);
        var entries = new List<Entry>();
        int number = 0;
        foreach (var text in File.ReadLines(path))
        {
            number++;
            Line line;
            try { line = JsonSerializer.Deserialize<Line>(text, Json) ?? throw new JsonException("null"); }
            catch (JsonException e) { throw new InvalidDataException($"{path}:{number}: not an own-step example ({e.Message})"); }
            if (!byId.TryGetValue((line.Split, line.Problem), out var problem))
                throw new InvalidDataException($"{path}:{number}: problem {line.Problem} ({line.Split}) is not among the problems this run samples; was the pool made with other settings?");
            entries.Add(new Entry(line.Split, problem, new SelfEvalExample(problem.Id, line.Prefix, line.Step, line.Sound)));
        }
        return new OwnStepPool(entries);
    }

    private static string Key(Entry e) => string.Join("\u0001", [e.Split, e.Problem.Id, .. e.Example.Prefix, "\u0002", e.Example.Step]);

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, RespectRequiredConstructorParameters = true };

    private sealed record Line(string Split, string Task, string Problem, IReadOnlyList<string> Prefix, string Step, bool Sound);
}
