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

    /// <summary>The question's statements (the question itself left out), shuffled, one per line.</summary>
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

    /// <summary>The first token of a rule cloze's answer with the other polarity (" small." for " not small.", and back).</summary>
    internal static int OtherPolarityFirstToken(TrainingSequence cloze, ITextTokenizer tokenizer)
    {
        var answer = tokenizer.Decode(cloze.Tokens.Skip(cloze.PromptLength), skipSpecialTokens: true);
        var other = answer.StartsWith(" not ", StringComparison.Ordinal) ? answer[" not".Length..] : " not" + answer;
        return tokenizer.Encode(other)[0];
    }

    /// <summary>
    /// A reverse look-up drill: the drill's prompt, then for each of the question's statements whose predicate no other
    /// statement shares, in a random order, a line asking for its subject ("Which is not small? tumpus."). The forward
    /// look-up after "Every C is" needs a key at the rule's words that knows the rule's subject C, two or three tokens
    /// back, and its polarity; only a query that finds it and a key that holds it together lower the loss, so neither
    /// half is rewarded alone. Asking for the subject from the predicate trains the key's half by itself: the answer is
    /// found only by attending to the predicate's last word and reading the subject bound there. Null when no statement's
    /// predicate is unique.
    /// </summary>
    public TrainingSequence? EncodeReverse(Problem problem, Random random, ITextTokenizer tokenizer) => EncodeLines(problem, ReverseLines(problem, random), tokenizer);

    /// <summary>
    /// A quiz drill: the drill's prompt, then each of the question's property rules asked as a yes/no question about its
    /// subject and property, in a random order ("Is every tumpus small? no."). The forward look-up after "Every C is"
    /// has to go from the subject to C's property rule and read its polarity; reverse drills teach the rule's words to
    /// hold subject and polarity, and a quiz asks for the polarity by subject (and property, which a solution has to
    /// fetch from the question's last sentence) — the query half, with its key half in place. Null when the question has
    /// no property rule.
    /// </summary>
    public TrainingSequence? EncodeQuiz(Problem problem, Random random, ITextTokenizer tokenizer) => EncodeLines(problem, QuizLines(problem, random), tokenizer);

    /// <summary>
    /// An asked-property drill: the drill's prompt, then, in a random order, the question's rules about the property its
    /// last sentence asks ("Is Fae small?"), each written out as a solution cites it ("Every tumpus is not small."). After
    /// "Every C is" the polarity of C's rule about that property is a solution's own look-up, with the property where a
    /// solution has it, at the question's end; quizzes name it beside the subject, and models that answer them still miss
    /// this (pilot-ax). Null when the question asks no property or has no rule about it.
    /// </summary>
    public TrainingSequence? EncodeAsked(Problem problem, Random random, ITextTokenizer tokenizer) => EncodeLines(problem, AskedPropertyLines(problem, random), tokenizer);

    private TrainingSequence? EncodeLines(Problem problem, IReadOnlyList<AskedLine> lines, ITextTokenizer tokenizer)
    {
        if (lines.Count == 0) return null;
        var promptIds = tokenizer.Encode(Prompt(problem));
        return new TrainingSequence([.. promptIds, .. tokenizer.Encode(Target(lines)), tokenizer.EosId], promptIds.Length);
    }

    /// <summary>The reverse drill's lines: the statements whose predicate is unique in the question, asked for their subject, in a random order.</summary>
    public static IReadOnlyList<AskedLine> ReverseLines(Problem problem, Random random)
    {
        var statements = Statements(problem);
        var unique = statements.Where(s => statements.Count(o => o.Predicate == s.Predicate) == 1)
            .Select(s => new AskedLine($"Which {s.Predicate}?", s.Subject, KindOf(s.Predicate))).ToArray();
        random.Shuffle(unique);
        return unique;
    }

    /// <summary>The quiz drill's lines: each property rule asked as "Is every C P?", answered yes or no, in a random order.</summary>
    public static IReadOnlyList<AskedLine> QuizLines(Problem problem, Random random)
    {
        var properties = Statements(problem).Where(s => s.Every && !s.Predicate.StartsWith("is a ", StringComparison.Ordinal))
            .Select(s => (s.Subject, Property: s.Predicate.Split(' ')[^1], Negated: KindOf(s.Predicate) == AskedKind.Negated)).ToArray();
        // Contested: another category has a rule about the same property, so the property alone does not answer.
        var rules = properties.Select(r => new AskedLine($"Is every {r.Subject} {r.Property}?", r.Negated ? "no" : "yes", r.Negated ? AskedKind.Negated : AskedKind.Property)
            {
                Contested = properties.Any(o => o.Property == r.Property && o.Subject != r.Subject),
            }).ToArray();
        random.Shuffle(rules);
        return rules;
    }

    /// <summary>The asked-property drill's lines: "Every C is" answered by the rest of C's rule about the asked property, in a random order.</summary>
    public static IReadOnlyList<AskedLine> AskedPropertyLines(Problem problem, Random random)
    {
        if (AskedProperty().Match(problem.Question) is not { Success: true } asked) return [];
        var lines = Statements(problem).Where(s => s.Every && s.Predicate.Split(' ')[^1] == asked.Groups[1].Value && !s.Predicate.StartsWith("is a ", StringComparison.Ordinal))
            .Select(s => new AskedLine($"Every {s.Subject} is", s.Predicate["is ".Length..], KindOf(s.Predicate)) { Contested = true }).ToArray();
        random.Shuffle(lines);
        return lines;
    }

    /// <summary>A drill's lines as its target text, one per line: "Which is not small? tumpus."</summary>
    public static string Target(IEnumerable<AskedLine> lines) => string.Join("\n", lines.Select(l => $"{l.Ask} {l.Answer}."));

    private static (bool Every, string Subject, string Predicate)[] Statements(Problem problem) =>
        Statement().Matches(problem.Question).Select(m => (m.Groups[1].Success, m.Groups[2].Value, m.Groups[3].Value)).ToArray();

    private static AskedKind KindOf(string predicate) =>
        predicate.StartsWith("is not ", StringComparison.Ordinal) ? AskedKind.Negated
        : predicate.StartsWith("is a ", StringComparison.Ordinal) ? AskedKind.Link
        : AskedKind.Property;

    // "Is Fae small?", the question's own sentence: the asked property.
    [GeneratedRegex(@"Is \w+ (\w+)\?")]
    internal static partial Regex AskedProperty();

    [GeneratedRegex(@"[^.?]+[.?]")]
    private static partial Regex SentenceRegex();

    // "Every tumpus is not small." / "Fae is a jompus.": its subject and its predicate ("is not small").
    [GeneratedRegex(@"(Every )?(\w+) (is(?: a| not)? \w+)\.")]
    private static partial Regex Statement();
}

/// <summary>One line of a reverse, quiz or asked-property drill: what it asks ("Which is not small?"), its answer ("tumpus"), and the kind of statement it is about.</summary>
public readonly record struct AskedLine(string Ask, string Answer, AskedKind Kind)
{
    /// <summary>A line about a property another category also has a rule about (the asked property always is): only the subject tells them apart.</summary>
    public bool Contested { get; init; }
}

/// <summary>What a drill line is about: a negated property rule, a property rule, or a link or fact ("is a C").</summary>
public enum AskedKind { Negated, Property, Link }
