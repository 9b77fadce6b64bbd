using Reasoner.Core.Answers;
using Reasoner.Core.Problems;

namespace Reasoner.Training.Evaluation;

/// <summary>
/// maj@k (self-consistency): the answer most samples agree on, where agreeing means equivalent under the
/// answer checker ("12" and "12.0", "\frac12" and "0.5"), not equal as strings. Samples with no extractable
/// answer do not vote; ties go to the answer whose first vote came first.
/// </summary>
public static class MajorityVote
{
    public static string? Winner(IEnumerable<string?> answers, AnswerKind kind)
    {
        var groups = new List<(string Representative, int Votes)>();
        foreach (var answer in answers)
        {
            if (answer is null) continue;
            int i = groups.FindIndex(g => AnswerChecker.IsEquivalent(answer, g.Representative, kind));
            if (i < 0) groups.Add((answer, 1));
            else groups[i] = (groups[i].Representative, groups[i].Votes + 1);
        }
        if (groups.Count == 0) return null;
        var best = groups[0];
        foreach (var g in groups)
            if (g.Votes > best.Votes) best = g;
        return best.Representative;
    }
}
