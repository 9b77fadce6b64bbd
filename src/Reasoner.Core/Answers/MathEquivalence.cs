using System.Numerics;
using System.Text.RegularExpressions;

namespace Reasoner.Core.Answers;

/// <summary>
/// Decides whether two LaTeX answers mean the same thing. Structure first (sets and lists compare as multisets,
/// tuples, intervals and matrices element-wise), then each scalar by value: both sides are parsed and evaluated,
/// as constants or at a fixed set of pseudo-random points when they contain variables.
/// </summary>
internal static partial class MathEquivalence
{
    private const int MaxLength = 2000;
    private const int MaxNesting = 8;

    private const int Points = 6;
    private const int MaxVariables = 12;
    private const int MinAgreeingPoints = 3;

    // Seeded so a verdict never changes between runs; drawn from [0.3, 3.0) to stay clear of 0 and 1, where
    // different expressions (x vs x^2, x vs 1/x) coincide, and of negative values, where roots and logs branch.
    private static readonly double[,] SamplePoints = BuildSamplePoints();

    public static bool AreEquivalent(string predicted, string reference)
    {
        if (predicted.Length > MaxLength || reference.Length > MaxLength)
            return predicted.Trim() == reference.Trim();
        return Equivalent(MathNormalizer.Normalize(predicted), MathNormalizer.Normalize(reference), 0);
    }

    private static bool Equivalent(string a, string b, int nesting)
    {
        if (a.Length == 0 || b.Length == 0 || nesting > MaxNesting) return false;
        if (a == b) return true;

        var itemsA = UnorderedItems(a, nesting);
        var itemsB = UnorderedItems(b, nesting);
        if (itemsA is not null || itemsB is not null)
            return SameMultiset(itemsA ?? [a], itemsB ?? [b], nesting);

        var sequenceA = Sequence(a);
        var sequenceB = Sequence(b);
        if (sequenceA is not null || sequenceB is not null)
            return sequenceA is not null && sequenceB is not null && SameSequence(sequenceA, sequenceB, nesting);

        var sidesA = Latex.SplitTopLevel(a, "=");
        var sidesB = Latex.SplitTopLevel(b, "=");
        if (sidesA.Count != sidesB.Count) return false;
        if (sidesA.Count == 2)
            return Same(sidesA[0], sidesB[0], nesting) && Same(sidesA[1], sidesB[1], nesting);

        return ScalarEquivalent(a, b);
    }

    private static bool Same(string a, string b, int nesting) =>
        Equivalent(MathNormalizer.Normalize(a), MathNormalizer.Normalize(b), nesting + 1);

    /// <summary>
    /// The members of an unordered answer, flattened and normalised: a union of intervals, a bare list of solutions
    /// ("-2, 1"), a set "\{..\}", or a ± expression standing for both signs. Null when the answer is none of these.
    /// </summary>
    private static List<string>? UnorderedItems(string s, int nesting)
    {
        List<string>? parts = null;
        if (Latex.SplitTopLevel(s, "\\cup") is { Count: > 1 } union) parts = union;
        else if (Latex.SplitTopLevel(s, ",") is { Count: > 1 } list) parts = list;
        else if (s.StartsWith("\\{") && s.EndsWith("\\}") && Latex.MatchingBracket(s, 1) == s.Length - 1)
            parts = Latex.SplitTopLevel(s[2..^2], ",");
        else if (PlusMinusRegex().Match(s) is { Success: true } pm)
        {
            string head = s[..pm.Index], tail = s[(pm.Index + pm.Length)..];
            bool minusFirst = pm.Value == "\\mp";
            parts = [head + (minusFirst ? "-" : "+") + tail, head + (minusFirst ? "+" : "-") + tail];
        }
        if (parts is null || nesting > MaxNesting) return null;

        var items = new List<string>();
        foreach (var part in parts)
        {
            string item = MathNormalizer.Normalize(part);
            if (item.Length == 0) return null;
            items.AddRange(UnorderedItems(item, nesting + 1) ?? [item]);
        }
        return items;
    }

    private static bool SameMultiset(List<string> a, List<string> b, int nesting)
    {
        if (a.Count != b.Count) return false;
        var used = new bool[b.Count];
        foreach (var item in a)
        {
            int match = Enumerable.Range(0, b.Count).FirstOrDefault(j => !used[j] && Equivalent(item, b[j], nesting + 1), -1);
            if (match < 0) return false;
            used[match] = true;
        }
        return true;
    }

    /// <summary>
    /// An ordered answer. <paramref name="Shape"/> carries what must match besides the elements: the bracket pair
    /// of a tuple or interval ("()", "[)"), or the column count of a matrix. Vectors written as one-row or
    /// one-column matrices take the tuple shape, so <c>\begin{pmatrix}1\\2\end{pmatrix}</c> equals <c>(1,2)</c>.
    /// </summary>
    private sealed record OrderedAnswer(string Shape, List<string> Items);

    private static OrderedAnswer? Sequence(string s)
    {
        if (MatrixRegex().Match(s) is { Success: true } matrix)
        {
            var rows = Latex.SplitTopLevel(matrix.Groups["body"].Value, "\\\\")
                .Where(r => r.Trim().Length > 0)
                .Select(r => Latex.SplitTopLevel(r, "&"))
                .ToList();
            if (rows.Count == 0) return null;
            int columns = rows[0].Count;
            if (rows.Any(r => r.Count != columns)) return null;
            var cells = rows.SelectMany(r => r).ToList();
            return new OrderedAnswer(rows.Count == 1 || columns == 1 ? "()" : $"matrix{columns}", cells);
        }
        if (s.Length < 2 || s[0] is not ('(' or '[') || s[^1] is not (')' or ']') || Latex.MatchingBracket(s, 0) != s.Length - 1)
            return null;
        var items = Latex.SplitTopLevel(s[1..^1], ",");
        return items.Count < 2 ? null : new OrderedAnswer($"{s[0]}{s[^1]}", items);
    }

    private static bool SameSequence(OrderedAnswer a, OrderedAnswer b, int nesting) =>
        a.Shape == b.Shape && a.Items.Count == b.Items.Count
        && a.Items.Zip(b.Items).All(pair => Same(pair.First, pair.Second, nesting));

    private static bool ScalarEquivalent(string a, string b)
    {
        // Words (\text{east}, "even") are not products of variables: e*v*e*n would equal n*e*v*e.
        if (WordRegex().IsMatch(a) || WordRegex().IsMatch(b)) return string.Equals(a, b, StringComparison.OrdinalIgnoreCase);
        var left = MathParser.TryParse(a);
        var right = MathParser.TryParse(b);
        return left is not null && right is not null && SameValue(left, right);
    }

    private static bool SameValue(MathExpr a, MathExpr b)
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        a.CollectVariables(names);
        b.CollectVariables(names);
        if (names.Count > MaxVariables) return false;
        if (names.Count == 0)
        {
            var none = new Dictionary<string, Complex>();
            return Tolerance.Close(a.Evaluate(none), b.Evaluate(none));
        }

        int agreeing = 0;
        for (int point = 0; point < Points; point++)
        {
            var values = names.Select((name, j) => (name, value: new Complex(SamplePoints[point, j], 0)))
                .ToDictionary(p => p.name, p => p.value);
            var x = a.Evaluate(values);
            var y = b.Evaluate(values);
            // A point where either side is undefined (division by zero) says nothing either way.
            if (!Tolerance.IsFinite(x) || !Tolerance.IsFinite(y)) continue;
            if (!Tolerance.Close(x, y)) return false;
            agreeing++;
        }
        return agreeing >= MinAgreeingPoints;
    }

    private static double[,] BuildSamplePoints()
    {
        var random = new Random(20240611);
        var points = new double[Points, MaxVariables];
        for (int p = 0; p < Points; p++)
            for (int v = 0; v < MaxVariables; v++)
                points[p, v] = 0.3 + 2.7 * random.NextDouble();
        return points;
    }

    [GeneratedRegex(@"\\(?:pm|mp)(?![A-Za-z])")]
    private static partial Regex PlusMinusRegex();

    [GeneratedRegex(@"^\\begin\{(?<env>[pbvBV]?matrix|array)\}(?:\{[^{}]*\})?(?<body>.*)\\end\{\k<env>\}$", RegexOptions.Singleline)]
    private static partial Regex MatrixRegex();

    [GeneratedRegex(@"^[A-Za-z]{3,}$")]
    private static partial Regex WordRegex();
}
