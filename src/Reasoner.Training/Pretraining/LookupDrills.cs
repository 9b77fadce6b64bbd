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

    /// <summary>
    /// A rule cloze: the drill's prompt and the start of one of the question's property rules, "Every C is", whose target
    /// is the rest of it (" not small." or " small.") and EOS. The word after "is" is the rule's polarity, which decides a
    /// logic answer: the question always holds the asked property's rule for another category with the other polarity, so
    /// only C's own rule tells them apart, and models that miss it sit at chance on logic while getting every link right
    /// (pilot-ah, docs/pretraining-experiments.md). In a solution that word is one target token of about sixty; here it is
    /// one of three, and the cloze's loss weight (pretrain --rule-cloze-weight) can make those count more in a batch.
    /// Only rules whose subject has no other rule are asked, so the answer is unique; null when the question has none.
    /// </summary>
    public TrainingSequence? EncodeCloze(Problem problem, Random random, ITextTokenizer tokenizer)
    {
        var rules = LookupMonitor.Rule().Matches(problem.Question).ToArray();
        var unique = rules.Where(r => r.Groups[2].Value != " a" && rules.Count(o => o.Groups[1].Value == r.Groups[1].Value) == 1).ToArray();
        if (unique.Length == 0) return null;
        var rule = unique[random.Next(unique.Length)];
        // After "Every C is": where " not" starts, or the property where there is none.
        int cut = (rule.Groups[2].Success ? rule.Groups[2].Index : rule.Groups[3].Index) - rule.Index;
        var promptIds = tokenizer.Encode(Prompt(problem) + rule.Value[..cut]);
        return new TrainingSequence([.. promptIds, .. tokenizer.Encode(rule.Value[cut..]), tokenizer.EosId], promptIds.Length);
    }

    [GeneratedRegex(@"[^.?]+[.?]")]
    private static partial Regex SentenceRegex();
}
