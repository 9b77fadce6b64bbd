using Reasoner.Core.Problems;
using Reasoner.Core.Prompts;
using Reasoner.Core.Tasks;
using Reasoner.Models.Tokenization;
using Reasoner.Training.Batching;

namespace Reasoner.Training.Pretraining;

/// <summary>
/// The built-in tasks as training text: the prompt is the bare solve prompt with the question, the target is
/// the reference steps one per line and then EOS, so the model learns to end its own solutions.
/// </summary>
public sealed class SolutionCorpus(PromptTemplate prompt)
{
    public string Prompt(Problem problem) =>
        prompt.Render(new Dictionary<string, string> { ["question"] = PromptLibrary.FormatQuestion(problem) });

    public static string Target(Problem problem) =>
        string.Join("\n", problem.ReferenceSteps ?? throw new ArgumentException($"problem {problem.Id} has no reference steps"));

    /// <summary>Prompt and target are encoded apart, exactly as generation sees them: prompt tokens, then the model's own.</summary>
    public TrainingSequence Encode(Problem problem, ITextTokenizer tokenizer)
    {
        var promptIds = tokenizer.Encode(Prompt(problem));
        return new TrainingSequence([.. promptIds, .. tokenizer.Encode(Target(problem)), tokenizer.EosId], promptIds.Length);
    }

    /// <summary>
    /// The endless training stream: each problem's task drawn from <paramref name="tasks"/>, then its difficulty from that
    /// task's mix (<paramref name="difficultiesOf"/>), each (task, difficulty) its own seeded train stream. With one
    /// difficulty nothing is drawn for it, so the stream is the one a single <c>--difficulty</c> always gave. A logic
    /// problem is drawn with <paramref name="uncontestedShare"/>'s chance from a stream of its level without the contested
    /// distractor (<see cref="LogicOptions.Contested"/>); at 0 nothing is drawn for it.
    /// </summary>
    public static IEnumerable<Problem> TrainProblems(TaskMix tasks, Func<string, DifficultyMix> difficultiesOf, int seed, double uncontestedShare = 0)
    {
        var mixes = tasks.Names.Select(difficultiesOf).ToArray();
        var streams = tasks.Names.Select((t, i) => mixes[i].Levels
            .Select((level, j) => BuiltinTasks.Generate(t, Split.Train, seed + i + 7919 * j, level).GetEnumerator()).ToArray()).ToArray();
        var uncontested = tasks.Names.Select((t, i) => t == BuiltinTasks.Logic && uncontestedShare > 0
            ? mixes[i].Levels.Select((level, j) => BuiltinTasks.Generate(LogicOptions.ForDifficulty(level) with { Contested = false }, Split.Train, seed + i + 7919 * j + 104729).GetEnumerator()).ToArray()
            : null).ToArray();
        var random = new Random(seed);
        try
        {
            while (true)
            {
                var task = tasks.Draw(random);
                int level = mixes[task].Draw(random);
                var stream = uncontested[task] is { } easier && random.NextDouble() < uncontestedShare ? easier[level] : streams[task][level];
                stream.MoveNext();
                yield return stream.Current;
            }
        }
        finally
        {
            foreach (var s in streams.SelectMany(s => s).Concat(uncontested.OfType<IEnumerator<Problem>[]>().SelectMany(s => s))) s.Dispose();
        }
    }

    /// <summary>Text to learn the BPE vocabulary from: prompts and solutions of problems the training stream will not start with.</summary>
    public IEnumerable<string> TokenizerText(IReadOnlyList<string> tasks, int difficulty, int seed, int problemsPerTask) =>
        tasks.SelectMany((t, i) => BuiltinTasks.Generate(t, Split.Train, seed + 1000 + i, difficulty).Take(problemsPerTask))
            .Select(p => Prompt(p) + Target(p));
}
