using System.Text.RegularExpressions;
using Reasoner.Core.Problems;
using Reasoner.Core.Prompts;
using Reasoner.Models.Tokenization;
using Reasoner.Training.Batching;

namespace Reasoner.Training.Pretraining;

/// <summary>
/// Look-up drills for the logic task: after the question, its statements again, one per line, in a random order. Which
/// statement comes next is a free choice, but once a line names its subject ("Every lorpus is", "Fae is a"), the rest can
/// only be found in the question. A logic solution needs that look-up once per hop and is mostly text it could copy
/// without it; a drill asks for it on every line, so that a small model learns to find a rule in its context.
/// </summary>
public sealed partial class LookupDrills(PromptTemplate prompt)
{
    public static bool Applies(Problem problem) => problem.Family == Core.Tasks.BuiltinTasks.Logic;

    public string Prompt(Problem problem) => prompt.Render(new Dictionary<string, string> { ["question"] = PromptLibrary.FormatQuestion(problem) });

    /// <summary>The question's statements (its last sentence, the question itself, left out), shuffled, one per line.</summary>
    public static string Target(Problem problem, Random random)
    {
        var statements = SentenceRegex().Matches(problem.Question).Select(m => m.Value.Trim()).Where(s => s.EndsWith('.')).ToArray();
        random.Shuffle(statements);
        return string.Join("\n", statements);
    }

    public TrainingSequence Encode(Problem problem, Random random, ITextTokenizer tokenizer)
    {
        var promptIds = tokenizer.Encode(Prompt(problem));
        return new TrainingSequence([.. promptIds, .. tokenizer.Encode(Target(problem, random)), tokenizer.EosId], promptIds.Length);
    }

    [GeneratedRegex(@"[^.?]+[.?]")]
    private static partial Regex SentenceRegex();
}
