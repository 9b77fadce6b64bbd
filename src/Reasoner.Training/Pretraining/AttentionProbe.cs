using System.Text.RegularExpressions;
using Reasoner.Core.Problems;
using Reasoner.Models;
using Reasoner.Models.Tokenization;
using static TorchSharp.torch;

namespace Reasoner.Training.Pretraining;

/// <summary>What a key position of a logic problem is, seen from a solution's "Every C is" before the property rule's word.</summary>
public enum AttentionRegion
{
    /// <summary>The property the question asks ("Is Fae | small?").</summary>
    AskedProperty,
    /// <summary>C in C's rule about the asked property ("Every | tumpus is not small.").</summary>
    RuleSubject,
    /// <summary>The words after "is" in that rule, the ones the look-up has to read ("not small" or "small").</summary>
    RuleWords,
    /// <summary>"Every", "is" and the full stop of that rule.</summary>
    RuleFrame,
    /// <summary>The words after "is" in the other category's rule about the asked property (the opposite polarity).</summary>
    ContestedWords,
    /// <summary>The rest of that rule: "Every", its subject, "is", the full stop.</summary>
    ContestedRule,
    /// <summary>Every token of C's other rules (its links, its other properties).</summary>
    SubjectsOtherRules,
    /// <summary>The solution up to and including the query ("… Every tumpus is").</summary>
    Solution,
    /// <summary>Everything else: the prompt's frame, other statements, the rest of the question.</summary>
    Rest,
}

/// <summary>
/// Each head's mean attention by region at the polarity look-up, over <see cref="Problems"/> problems (Mass[layer, head,
/// region] sums to 1 over regions), how often the model's next token there was the solution's, and each head's mean
/// share on C at the property word of C's rule in the question (SubjectAtRule[layer, head]): the key half of the look-up,
/// a rule's last word gathering its subject.
/// </summary>
public sealed record AttentionProfile(double[,,] Mass, double[,] SubjectAtRule, int Problems, int PolarityRight)
{
    public int Layers => Mass.GetLength(0);

    public int Heads => Mass.GetLength(1);
}

/// <summary>
/// Where the attention heads look when a logic solution has reached "Every C is" and its next word must be the polarity
/// of C's rule about the asked property ("not") or the property itself: the look-up no run but one learnt
/// (docs/pretraining-experiments.md). A head that carries it puts its weight on that rule's words or subject; heads that
/// spread over the solution or the rest carry something else. Reference solutions, teacher-forced, one problem per forward.
/// </summary>
public static class AttentionProbe
{
    public static AttentionProfile Measure(CausalLanguageModel model, ITextTokenizer tokenizer, IReadOnlyList<Problem> problems, SolutionCorpus corpus)
    {
        using var noGrad = no_grad();
        var device = model.parameters().First().device;
        int layers = model.Config.NumHiddenLayers, heads = model.Config.NumAttentionHeads, regions = Enum.GetValues<AttentionRegion>().Length;
        var mass = new double[layers, heads, regions];
        var subjectAtRule = new double[layers, heads];
        int measured = 0, right = 0;
        foreach (var problem in problems)
        {
            if (Locate(problem, corpus.Encode(problem, tokenizer), tokenizer) is not { } located) continue;
            var (tokens, query, regionOf) = located;
            int ruleEnd = Array.LastIndexOf(regionOf, AttentionRegion.RuleWords);
            var rows = new float[layers][];
            var ruleRows = new float[layers][];
            model.AttentionWeights = (layer, weights) =>
            {
                using var row = weights[0, TensorIndex.Colon, query, TensorIndex.Slice(0, query + 1)].to(ScalarType.Float32).cpu();
                rows[layer] = row.data<float>().ToArray();
                using var ruleRow = weights[0, TensorIndex.Colon, ruleEnd, TensorIndex.Slice(0, ruleEnd + 1)].to(ScalarType.Float32).cpu();
                ruleRows[layer] = ruleRow.data<float>().ToArray();
            };
            try
            {
                using var input = tensor(tokens[..(query + 1)].Select(t => (long)t).ToArray(), device: device).unsqueeze(0);
                using var logits = model.ForwardRightPadded(input);
                using var next = logits[0, -1].argmax();
                if (next.item<long>() == tokens[query + 1]) right++;
            }
            finally
            {
                model.AttentionWeights = null;
            }
            for (int layer = 0; layer < layers; layer++)
                for (int head = 0; head < heads; head++)
                {
                    for (int key = 0; key <= query; key++)
                        mass[layer, head, (int)regionOf[key]] += rows[layer][head * (query + 1) + key];
                    for (int key = 0; key <= ruleEnd; key++)
                        if (regionOf[key] == AttentionRegion.RuleSubject) subjectAtRule[layer, head] += ruleRows[layer][head * (ruleEnd + 1) + key];
                }
            measured++;
        }
        if (measured > 0)
            for (int layer = 0; layer < layers; layer++)
                for (int head = 0; head < heads; head++)
                {
                    for (int r = 0; r < regions; r++)
                        mass[layer, head, r] /= measured;
                    subjectAtRule[layer, head] /= measured;
                }
        return new AttentionProfile(mass, subjectAtRule, measured, right);
    }

    /// <summary>
    /// The query position (the token before the property rule's word in the reference solution) and every earlier
    /// position's region; null when the solution cites no property rule, the question does not hold the rule it cites, or
    /// the tokens do not decode to the text.
    /// </summary>
    internal static (int[] Tokens, int Query, AttentionRegion[] RegionOf)? Locate(Problem problem, Batching.TrainingSequence sequence, ITextTokenizer tokenizer)
    {
        var tokens = sequence.Tokens;
        var ends = LookupMonitor.TextEnds(tokens, tokenizer);
        var text = tokenizer.Decode(tokens);
        var target = SolutionCorpus.Target(problem);
        int promptEnd = sequence.PromptLength == 0 ? 0 : ends[sequence.PromptLength - 1];
        int questionAt = text.LastIndexOf(problem.Question, promptEnd, StringComparison.Ordinal);
        if (questionAt < 0 || !text.AsSpan(promptEnd).StartsWith(target, StringComparison.Ordinal)) return null;
        if (LookupDrills.AskedProperty().Match(problem.Question) is not { Success: true } asked) return null;
        var property = asked.Groups[1].Value;
        // The solution's rule about the asked property: "Every tumpus is not small." — its word after "is" is the look-up.
        var cited = LookupMonitor.Rule().Matches(target).LastOrDefault(r => r.Groups[3].Value == " " + property && r.Groups[2].Value != " a");
        if (cited is null) return null;
        int wordAt = promptEnd + (cited.Groups[2].Success ? cited.Groups[2].Index : cited.Groups[3].Index);
        int wordToken = Array.FindIndex(ends, e => e > wordAt);
        if (wordToken <= sequence.PromptLength) return null;

        var subject = cited.Groups[1].Value;
        var spans = new List<(int Start, int End, AttentionRegion Region)>();
        var rules = LookupMonitor.Rule().Matches(problem.Question);
        foreach (Match rule in rules)
        {
            int at = questionAt + rule.Index, end = at + rule.Length;
            int subjectAt = questionAt + rule.Groups[1].Index, wordsAt = questionAt + (rule.Groups[2].Success ? rule.Groups[2].Index : rule.Groups[3].Index);
            if (rule.Value == cited.Value)
            {
                spans.Add((subjectAt, subjectAt + rule.Groups[1].Length, AttentionRegion.RuleSubject));
                spans.Add((wordsAt, end - 1, AttentionRegion.RuleWords));
                spans.Add((at, end, AttentionRegion.RuleFrame));
            }
            else if (rule.Groups[3].Value == " " + property && rule.Groups[2].Value != " a")
            {
                spans.Add((wordsAt, end - 1, AttentionRegion.ContestedWords));
                spans.Add((at, end, AttentionRegion.ContestedRule));
            }
            else if (rule.Groups[1].Value == subject)
                spans.Add((at, end, AttentionRegion.SubjectsOtherRules));
        }
        int askedAt = questionAt + asked.Groups[1].Index;
        spans.Add((askedAt, askedAt + property.Length, AttentionRegion.AskedProperty));

        int query = wordToken - 1;
        var regionOf = new AttentionRegion[query + 1];
        for (int t = 0; t <= query; t++)
        {
            // A token belongs where its first visible character lies (" not" to the rule's words, ".\n" to the rule it
            // ends); the first span that holds it wins, so a rule's subject and words come before its frame.
            int first = t == 0 ? 0 : ends[t - 1];
            while (first < ends[t] - 1 && char.IsWhiteSpace(text[first])) first++;
            regionOf[t] = t >= sequence.PromptLength ? AttentionRegion.Solution
                : spans.FirstOrDefault(s => first >= s.Start && first < s.End, (Start: 0, End: 0, Region: AttentionRegion.Rest)).Region;
        }
        // The question must hold the rule the solution cites: its words are where the look-up should land.
        return regionOf.Contains(AttentionRegion.RuleWords) ? (tokens, query, regionOf) : null;
    }
}
