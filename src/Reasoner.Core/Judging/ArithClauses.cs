using System.Globalization;
using System.Text.RegularExpressions;

namespace Reasoner.Core.Judging;

/// <summary>What one clause of an arith question or step says.</summary>
internal enum ClauseKind
{
    /// <summary>"Tom has 7 apples": who holds how many.</summary>
    Holding,

    /// <summary>"Tom has 3 bags with 4 apples in each": a product.</summary>
    Groups,

    /// <summary>A change to a quantity: "buys 5 more", "loses 3", "ends up with 2 times as many", "keeps one of 3 equal groups", "Mia has 3 more than Tom".</summary>
    Change,

    /// <summary>"so he has 7 + 5 = 12 apples", "Together they have 5 + 15 = 20 apples": a computed amount.</summary>
    Result,

    /// <summary>"How many apples does Tom have now?"</summary>
    Question,
}

/// <summary>
/// One clause: its kind, the people and object word it names, and for a change its operation (+, -, *, /) and number.
/// <see cref="Other"/> is the person compared with ("more than Tom").
/// </summary>
internal sealed record Clause(ClauseKind Kind, string Text, string? Who, string? Object, char Operation = ' ', double Number = 0, string? Other = null, double Second = 0);

/// <summary>
/// The clause grammar of the built-in arith task: the sentences its generator writes, in questions and in reference
/// steps, split into clauses at ", so", ", and", "and" and commas. Clauses may come in any number and order, so a step
/// that merges two changes ("She buys 3 more and loses 2, so she has 5 + 3 - 2 = 6 coins") still parses. Text that is
/// no clause of the grammar (a garbled or cut-off step) does not parse.
/// </summary>
internal static partial class ArithClauses
{
    /// <summary>The clauses of a text, or the first piece that is no clause.</summary>
    public static (IReadOnlyList<Clause> Clauses, string? Unparsed) Parse(string text)
    {
        var clauses = new List<Clause>();
        foreach (var sentence in SentenceEndRegex().Split(text.Trim()))
        {
            var body = sentence.Trim();
            if (body.Length == 0) continue;
            if (body[^1] is '.' or '?' or '!') body = body[..^1].TrimEnd();
            // A whole sentence may be one clause ("How many cards do Dan and Ann have together").
            if (Match(body) is { } whole)
            {
                clauses.Add(whole);
                continue;
            }
            foreach (var piece in ClauseSplitRegex().Split(body))
            {
                var clause = piece.Trim();
                if (clause.Length == 0) continue;
                if (Match(clause) is not { } parsed) return (clauses, clause);
                clauses.Add(parsed);
            }
        }
        return (clauses, null);
    }

    private static Clause? Match(string text)
    {
        Match m;
        if ((m = GroupsRegex().Match(text)).Success)
            return new Clause(ClauseKind.Groups, text, m.Groups["who"].Value, m.Groups["obj"].Value, '*', Number(m, "g"), Second: Number(m, "e"));
        if ((m = CompareRegex().Match(text)).Success)
            return new Clause(ClauseKind.Change, text, m.Groups["who"].Value, Object(m), m.Groups["dir"].Value == "more" ? '+' : '-', Number(m, "n"), m.Groups["other"].Value);
        if ((m = TimesAsRegex().Match(text)).Success)
            return new Clause(ClauseKind.Change, text, m.Groups["who"].Value, Object(m), '*', Number(m, "n"), m.Groups["other"].Value);
        if ((m = ResultRegex().Match(text)).Success)
            return new Clause(ClauseKind.Result, text, m.Groups["who"].Success ? m.Groups["who"].Value : null, m.Groups["obj"].Value);
        if ((m = HoldingRegex().Match(text)).Success)
            return new Clause(ClauseKind.Holding, text, m.Groups["who"].Value, m.Groups["obj"].Value, Number: Number(m, "n"));
        if ((m = GainRegex().Match(text)).Success)
            return new Clause(ClauseKind.Change, text, Who(m), Object(m), '+', Number(m, "n"));
        if ((m = LossRegex().Match(text)).Success)
            return new Clause(ClauseKind.Change, text, Who(m), Object(m), '-', Number(m, "n"));
        if ((m = MultiplyRegex().Match(text)).Success)
            return new Clause(ClauseKind.Change, text, Who(m), Object(m), '*', Number(m, "n"));
        if ((m = KeepRegex().Match(text)).Success)
            return new Clause(ClauseKind.Change, text, Who(m), Object(m), '/', Number(m, "n"));
        if ((m = QuestionRegex().Match(text)).Success)
            return new Clause(ClauseKind.Question, text, null, m.Groups["obj"].Value);
        return null;
    }

    private static double Number(Match m, string group) => double.Parse(m.Groups[group].Value, CultureInfo.InvariantCulture);

    private static string? Who(Match m) => m.Groups["who"].Success ? m.Groups["who"].Value : null;

    private static string? Object(Match m) => m.Groups["obj"].Success ? m.Groups["obj"].Value : null;

    /// <summary>Pronouns stand for a person named earlier; the judge does not check whom.</summary>
    public static bool IsPronoun(string word) => word is "he" or "she" or "He" or "She" or "they" or "They";

    [GeneratedRegex(@"(?<=[.!?])\s+")]
    private static partial Regex SentenceEndRegex();

    // ", so" / ", and" / " and " / ", " between clauses; "into 3 equal groups and keeps one group" is one clause.
    [GeneratedRegex(@"\s*,\s*(?:so|and)\s+|\s+and\s+(?!keeps one group)|\s*,\s*|^so\s+|\s+so\s+", RegexOptions.IgnoreCase)]
    private static partial Regex ClauseSplitRegex();

    [GeneratedRegex(@"^(?<who>[A-Za-z]+) has (?<g>\d+) (?<cont>[a-z]+) with (?<e>\d+) (?<obj>[a-z]+) in each$")]
    private static partial Regex GroupsRegex();

    [GeneratedRegex(@"^(?<who>[A-Za-z]+) has (?<n>\d+) (?<dir>more|fewer) (?:(?<obj>[a-z]+) )?than (?<other>[A-Za-z]+)$")]
    private static partial Regex CompareRegex();

    [GeneratedRegex(@"^(?<who>[A-Za-z]+) has (?<n>\d+) times as many (?:(?<obj>[a-z]+) )?as (?<other>[A-Za-z]+)$")]
    private static partial Regex TimesAsRegex();

    // The computed amount: "he has 9 - 3 = 6 stamps", "Together they have 5 + 15 = 20 cards", "they have ... together".
    [GeneratedRegex(@"^(?:(?<who>[A-Za-z]+) (?:now )?has|(?:together )?they (?:now )?have) [\d\s.+\-*/×÷x()]*=[\d\s.+\-*/×÷x()=]* (?<obj>[a-z]+)(?: together)?$", RegexOptions.IgnoreCase)]
    private static partial Regex ResultRegex();

    [GeneratedRegex(@"^(?<who>[A-Za-z]+) (?:now )?has (?<n>\d+) (?<obj>[a-z]+)$")]
    private static partial Regex HoldingRegex();

    [GeneratedRegex(@"^(?:(?<who>[A-Za-z]+) )?(?:buys|finds|gets|wins) (?<n>\d+) more(?: (?<obj>[a-z]+))?$")]
    private static partial Regex GainRegex();

    [GeneratedRegex(@"^(?:(?<who>[A-Za-z]+) )?(?:gives away|loses|sells) (?<n>\d+)(?: (?<obj>[a-z]+))?$")]
    private static partial Regex LossRegex();

    [GeneratedRegex(@"^(?:(?<who>[A-Za-z]+) )?ends up with (?<n>\d+) times as many(?: (?<obj>[a-z]+))?(?: as before)?$")]
    private static partial Regex MultiplyRegex();

    // The step's "keeps one of 3 equal groups" and the question's "splits the apples into 3 equal groups and keeps one group".
    [GeneratedRegex(@"^(?:(?<who>[A-Za-z]+) )?(?:keeps one of (?<n>\d+) equal groups|splits the (?<obj>[a-z]+) into (?<n>\d+) equal groups and keeps one group)$")]
    private static partial Regex KeepRegex();

    [GeneratedRegex(@"^How many (?<obj>[a-z]+) (?:does|do) .+ have(?: together| now)?$")]
    private static partial Regex QuestionRegex();
}
