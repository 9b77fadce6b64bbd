using System.Text.RegularExpressions;
using Reasoner.Core.Problems;
using Reasoner.Models;
using Reasoner.Models.Tokenization;
using Reasoner.Training.Batching;
using static TorchSharp.torch;

namespace Reasoner.Training.Pretraining;

/// <summary>Look-up tokens the model predicted right under teacher forcing, and problems whose every look-up it got right.</summary>
public sealed record LookupAccuracy(int Correct, int Tokens, int ProblemsAllCorrect, int Problems)
{
    public double TokenAccuracy => Tokens > 0 ? (double)Correct / Tokens : 0;

    /// <summary>Right and all look-up tokens by <see cref="LookupSpan.Gap"/>, the words between the subject and the looked-up word.</summary>
    public IReadOnlyDictionary<int, (int Correct, int Tokens)> ByGap { get; init; } = new Dictionary<int, (int, int)>();

    public double GapAccuracy(int gap) => ByGap.TryGetValue(gap, out var g) && g.Tokens > 0 ? (double)g.Correct / g.Tokens : double.NaN;

    /// <summary>Right and all look-up tokens by <see cref="LookupKind"/>, the decision each look-up makes.</summary>
    public IReadOnlyDictionary<LookupKind, (int Correct, int Tokens)> ByKind { get; init; } = new Dictionary<LookupKind, (int, int)>();

    public double ProblemShare => Problems > 0 ? (double)ProblemsAllCorrect / Problems : 0;

    /// <summary>
    /// The rule-form look-ups ("Every C is | …") counted by the word the solution has there and the word the model
    /// predicted: which way a wrong form goes (a link where the chain should end on the property, or the reverse).
    /// </summary>
    public IReadOnlyDictionary<(RuleWord Right, RuleWord Predicted), int> Forms { get; init; } = new Dictionary<(RuleWord, RuleWord), int>();

    /// <summary>
    /// The word after "Every C is" where the solution cites a property rule: its polarity ("not") or its property, right
    /// and all. A logic answer is that rule's polarity, so a model near half here is at chance on logic however well it
    /// finds the links.
    /// </summary>
    public (int Correct, int Tokens) Polarity { get; init; }

    public double PolarityAccuracy => Polarity.Tokens > 0 ? (double)Polarity.Correct / Polarity.Tokens : double.NaN;
}

/// <summary>The word after "Every C is": a link ("a"), a negated property ("not"), or another word (a property, or anything else predicted).</summary>
public enum RuleWord
{
    Link,
    Not,
    Other,
}

/// <summary>Rule clozes asked, answered with the right polarity, and answered with either polarity.</summary>
public sealed record ClozeAccuracy(int Right, int Polar, int Asked);

/// <summary>
/// One looked-up word of a logic solution (with the space before it) and <see cref="Gap"/>, the words between it and the
/// subject it is looked up by: "Every jompus is | small" and "Every jompus is | a lorpus" have 1 ("is") before "small" and
/// "a", "Every jompus is a | lorpus" and "Fae is a | jompus" have 2. The question holds the same words in the same order,
/// so a model finds the word by matching the subject that many words back.
/// </summary>
public sealed record LookupSpan(int Start, int Length, int Gap, LookupKind Kind);

/// <summary>
/// What a look-up decides, given the question's rules about the subject C. Binding alone (finding C's one rule) settles
/// the uncontested kinds; the contested ones also need the asked property (which of C's rules is about it) or looking
/// ahead (which of C's links leads to it).
/// </summary>
public enum LookupKind
{
    /// <summary>"Fae is a | jompus": the person's category.</summary>
    Category,

    /// <summary>"Every C is | a" (or "| not", "| small") where all of C's rules go on with that word.</summary>
    RuleForm,

    /// <summary>The same word where C's rules go on differently (a link and a property rule, or two properties).</summary>
    RuleFormContested,

    /// <summary>"Every C is a | lorpus" where C links to one category.</summary>
    LinkTarget,

    /// <summary>The same where C links to two or more: a branch, chosen by looking ahead to the asked property.</summary>
    BranchTarget,

    /// <summary>"Every C is not | small".</summary>
    NegatedProperty,
}

/// <summary>
/// Teacher-forced look-up accuracy on held-out logic problems: with the reference solution as context, how often the
/// model's most likely next token is the right one where a solution has to find something in the question: the
/// person's category in the first step, and what each cited rule says ("a lorpus", "not small", "small") after
/// "Every C is". Everything else in a logic solution is copied from the line before or fixed wording, so these tokens
/// decide whether a chain is sound. A few hundred look-ups make a far steadier figure than greedy accuracy on 50
/// problems, and it names the skill a logic solution fails on (a wrong rule reaches the right answer half the time).
/// </summary>
public sealed partial class LookupMonitor(IReadOnlyList<Problem> problems, SolutionCorpus corpus, int batchRows = 32)
{
    /// <summary>The looked-up words of a logic reference solution, in order, each with what it decides among the question's rules.</summary>
    public static IReadOnlyList<LookupSpan> LookupSpans(string solution, string question)
    {
        // The word after "Every C is" in each of the question's rules about C.
        var forms = Rule().Matches(question).ToLookup(r => r.Groups[1].Value, r => r.Groups[2].Success ? r.Groups[2].Value : r.Groups[3].Value);
        var spans = new List<LookupSpan>();
        if (FirstFact().Match(solution) is { Success: true } fact) spans.Add(new(fact.Groups[1].Index, fact.Groups[1].Length, 2, LookupKind.Category));
        foreach (Match rule in Rule().Matches(solution))
        {
            var subject = forms[rule.Groups[1].Value];
            var form = subject.Distinct().Count() > 1 ? LookupKind.RuleFormContested : LookupKind.RuleForm;
            if (!rule.Groups[2].Success)
            {
                spans.Add(new(rule.Groups[3].Index, rule.Groups[3].Length, 1, form));
                continue;
            }
            spans.Add(new(rule.Groups[2].Index, rule.Groups[2].Length, 1, form));
            var value = rule.Groups[2].Value == " not" ? LookupKind.NegatedProperty
                : subject.Count(f => f == " a") > 1 ? LookupKind.BranchTarget : LookupKind.LinkTarget;
            spans.Add(new(rule.Groups[3].Index, rule.Groups[3].Length, 2, value));
        }
        return spans;
    }

    public LookupAccuracy Measure(CausalLanguageModel model, ITextTokenizer tokenizer)
    {
        using var noGrad = no_grad();
        var device = model.parameters().First().device;
        int correct = 0, tokens = 0, allCorrect = 0, measured = 0;
        var byGap = new Dictionary<int, (int Correct, int Tokens)>();
        var byKind = new Dictionary<LookupKind, (int Correct, int Tokens)>();
        var forms = new Dictionary<(RuleWord, RuleWord), int>();
        var polarity = (Correct: 0, Tokens: 0);
        foreach (var chunk in problems.Chunk(batchRows))
        {
            var sequences = chunk.Select(p => corpus.Encode(p, tokenizer)).ToList();
            var positions = chunk.Select((p, i) => LookupPositions(SolutionCorpus.Target(p), p.Question, sequences[i], tokenizer)).ToList();
            using var batch = TokenBatch.Collate(sequences, tokenizer.EosId, device);
            using var logits = model.ForwardRightPadded(batch.InputIds);
            using var predicted = logits.argmax(-1).cpu();
            var best = predicted.data<long>().ToArray();
            long width = batch.Width;
            for (int i = 0; i < chunk.Length; i++)
            {
                if (positions[i].Count == 0) continue;
                int right = 0;
                foreach (var (t, span) in positions[i])
                {
                    // The logits at t - 1 predict the token at t.
                    bool hit = best[i * width + t - 1] == sequences[i].Tokens[t];
                    Count(byGap, span.Gap, hit);
                    Count(byKind, span.Kind, hit);
                    if (span.Kind is LookupKind.RuleForm or LookupKind.RuleFormContested)
                    {
                        var key = (WordOf(tokenizer, sequences[i].Tokens[t]), WordOf(tokenizer, (int)best[i * width + t - 1]));
                        forms[key] = forms.GetValueOrDefault(key) + 1;
                        if (key.Item1 != RuleWord.Link) polarity = (polarity.Correct + (hit ? 1 : 0), polarity.Tokens + 1);
                    }
                    if (hit) right++;
                }
                (correct, tokens, measured) = (correct + right, tokens + positions[i].Count, measured + 1);
                if (right == positions[i].Count) allCorrect++;
            }
        }
        return new LookupAccuracy(correct, tokens, allCorrect, measured) { ByGap = byGap, ByKind = byKind, Forms = forms, Polarity = polarity };
    }

    /// <summary>
    /// Teacher-forced accuracy on rule clozes (<see cref="LookupDrills.EncodeCloze"/>) of <paramref name="problems"/>: how
    /// often the model's most likely token after "Every C is" is the rule's first word, its polarity, and how often it is
    /// one of the two polarities at all (" not" or the property's first token, not " a" or anything else). Right among
    /// those is the two-way figure that compares with the solutions' polarity row; a model never trained on clozes often
    /// says " a" there, which only the first figure counts against it. Told apart from the solutions' look-ups, it says
    /// whether a model that fails the polarity in solutions has learnt it in the drill's form.
    /// </summary>
    public static ClozeAccuracy ClozeAccuracy(CausalLanguageModel model, ITextTokenizer tokenizer, IReadOnlyList<Problem> problems, LookupDrills drills, int batchRows = 32)
    {
        using var noGrad = no_grad();
        var device = model.parameters().First().device;
        var clozes = problems.Select((p, i) => drills.EncodeCloze(p, new Random(i), tokenizer)).OfType<TrainingSequence>().ToList();
        int right = 0, polar = 0;
        foreach (var chunk in clozes.Chunk(batchRows))
        {
            using var batch = TokenBatch.Collate(chunk, tokenizer.EosId, device);
            using var logits = model.ForwardRightPadded(batch.InputIds);
            using var predicted = logits.argmax(-1).cpu();
            var best = predicted.data<long>().ToArray();
            for (int i = 0; i < chunk.Length; i++)
            {
                long said = best[i * batch.Width + chunk[i].PromptLength - 1];
                if (said == chunk[i].Tokens[chunk[i].PromptLength]) (right, polar) = (right + 1, polar + 1);
                else if (said == LookupDrills.OtherPolarityFirstToken(chunk[i], tokenizer)) polar++;
            }
        }
        return new ClozeAccuracy(right, polar, clozes.Count);
    }

    /// <summary>
    /// Teacher-forced accuracy on drills that ask and answer line by line (<see cref="LookupDrills.ReverseLines"/>,
    /// <see cref="LookupDrills.QuizLines"/>, <see cref="LookupDrills.AskedPropertyLines"/>) on <paramref name="problems"/>,
    /// by what each line is about: how often every token of the answer is the model's most likely one. On reverse drills
    /// it says whether a rule's words have learnt to hold its subject (the key half of the forward look-up); on quizzes,
    /// whether the polarity is found by subject and property (the query half); on asked-property drills, the solution's
    /// own look-up (whose second line follows from the first by elimination).
    /// </summary>
    public static IReadOnlyDictionary<(AskedKind Kind, bool Contested), (int Right, int Asked)> AnswerAccuracy(CausalLanguageModel model, ITextTokenizer tokenizer, IReadOnlyList<Problem> problems,
        LookupDrills drills, Func<Problem, Random, IReadOnlyList<AskedLine>> lines, int batchRows = 32)
    {
        using var noGrad = no_grad();
        var device = model.parameters().First().device;
        var asked = problems.Select((p, i) => AskedAnswers(p, lines(p, new Random(i)), drills, tokenizer)).Where(q => q is not null).Select(q => q!.Value).ToList();
        var counts = new Dictionary<(AskedKind, bool), (int Right, int Asked)>();
        foreach (var chunk in asked.Chunk(batchRows))
        {
            using var batch = TokenBatch.Collate([.. chunk.Select(c => c.Sequence)], tokenizer.EosId, device);
            using var logits = model.ForwardRightPadded(batch.InputIds);
            using var predicted = logits.argmax(-1).cpu();
            var best = predicted.data<long>().ToArray();
            for (int r = 0; r < chunk.Length; r++)
                foreach (var (kind, positions) in chunk[r].Answers)
                {
                    bool right = positions.All(p => best[r * batch.Width + p - 1] == chunk[r].Sequence.Tokens[p]);
                    var c = counts.GetValueOrDefault(kind);
                    counts[kind] = (c.Right + (right ? 1 : 0), c.Asked + 1);
                }
        }
        return counts;
    }

    /// <summary>
    /// A drill's lines as <see cref="AnswerAccuracy"/> asks them: the sequence, and for each line its kind and the
    /// positions of its answer's tokens. Null when there is no line or the text does not decode back.
    /// </summary>
    internal static (TrainingSequence Sequence, IReadOnlyList<((AskedKind Kind, bool Contested) Kind, int[] Positions)> Answers)? AskedAnswers(Problem problem, IReadOnlyList<AskedLine> lines,
        LookupDrills drills, ITextTokenizer tokenizer)
    {
        if (lines.Count == 0) return null;
        var target = LookupDrills.Target(lines);
        var promptIds = tokenizer.Encode(drills.Prompt(problem));
        var targetIds = tokenizer.Encode(target);
        if (tokenizer.Decode(targetIds) != target) return null;
        var ends = TextEnds(targetIds, tokenizer);
        var answers = new List<((AskedKind, bool), int[])>();
        int lineStart = 0;
        foreach (var line in lines)
        {
            int start = lineStart + line.Ask.Length + 1, end = start + line.Answer.Length;
            var positions = Enumerable.Range(0, targetIds.Length).Where(t => (t == 0 ? 0 : ends[t - 1]) < end && ends[t] > start).Select(t => promptIds.Length + t).ToArray();
            answers.Add(((line.Kind, line.Contested), positions));
            lineStart = end + ".\n".Length;
        }
        return (new TrainingSequence([.. promptIds, .. targetIds, tokenizer.EosId], promptIds.Length), answers);
    }

    /// <summary>Where each token's text ends in the decoded text: decoding one prefix at a time, since a token need not decode alone.</summary>
    internal static int[] TextEnds(int[] tokens, ITextTokenizer tokenizer)
    {
        var ends = new int[tokens.Length];
        for (int i = 0; i < tokens.Length; i++) ends[i] = tokenizer.Decode(tokens[..(i + 1)]).Length;
        return ends;
    }

    // By the token's text, so that a tokenizer keeping "is a" whole (its tokens " is a", " is not", " is") is read alike.
    private static RuleWord WordOf(ITextTokenizer tokenizer, int token) => tokenizer.Decode([token]) switch
    {
        var text when text.EndsWith(" a", StringComparison.Ordinal) => RuleWord.Link,
        var text when text.EndsWith(" not", StringComparison.Ordinal) => RuleWord.Not,
        _ => RuleWord.Other,
    };

    private static void Count<TKey>(Dictionary<TKey, (int Correct, int Tokens)> counts, TKey key, bool hit) where TKey : notnull
    {
        var c = counts.GetValueOrDefault(key);
        counts[key] = (c.Correct + (hit ? 1 : 0), c.Tokens + 1);
    }

    /// <summary>
    /// Positions in the encoded sequence of the look-up tokens, each with its span: every token of the solution whose
    /// text overlaps a looked-up word, once. A tokenizer that keeps "is a" whole (pretrain --keep-whole) puts the word "a"
    /// in the token " is a", so that token, the choice between " is a", " is not" and " is", is the look-up there. Token
    /// texts come from decoding the solution's tokens one prefix at a time; a solution that does not decode to its text
    /// is skipped.
    /// </summary>
    private static List<(int Position, LookupSpan Span)> LookupPositions(string target, string question, TrainingSequence sequence, ITextTokenizer tokenizer)
    {
        var tokens = sequence.Tokens.AsSpan(sequence.PromptLength).ToArray();
        var positions = new List<(int, LookupSpan)>();
        if (tokens.Length == 0 || !tokenizer.Decode(tokens).StartsWith(target, StringComparison.Ordinal)) return positions;
        var ends = TextEnds(tokens, tokenizer);
        int next = 0;
        foreach (var span in LookupSpans(target, question))
            for (int t = next; t < tokens.Length; t++)
            {
                int tokenStart = t == 0 ? 0 : ends[t - 1];
                if (tokenStart >= span.Start + span.Length) break;
                if (ends[t] <= span.Start) continue;
                positions.Add((sequence.PromptLength + t, span));
                next = t + 1;
            }
        return positions;
    }

    // "Fae is a jompus." opening the solution: the category is looked up.
    [GeneratedRegex(@"^\w+ is a( \w+)\.")]
    private static partial Regex FirstFact();

    // "Every jompus is a lorpus." / "Every tumpus is not small." / "Every zumpus is small.", in a step or the question.
    [GeneratedRegex(@"Every (\w+) is( a| not)?( \w+)\.")]
    internal static partial Regex Rule();
}
