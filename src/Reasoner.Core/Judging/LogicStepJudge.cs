using System.Collections.Immutable;
using System.Text.RegularExpressions;
using Reasoner.Core.Problems;

namespace Reasoner.Core.Judging;

/// <summary>
/// What a logic solution's sound steps have established: each person's categories (given or derived) and the
/// properties derived for them, as "person|category" and "person|property|yes-or-no" keys.
/// </summary>
public sealed record LogicState(ImmutableHashSet<string> Memberships, ImmutableHashSet<string> Properties) : SolutionState;

/// <summary>
/// Gold labels for the built-in logic task, from the problem's own sentences ("X is a C.", "Every C is a D.",
/// "Every C is (not) P.", "Is X P?"). A step is a list of sentences. A fact it states must be given, derived by an
/// earlier sound step or earlier in the step, or follow from what is known by the rules the step has cited so far; a rule
/// it cites must be one of the problem's. Every hop needs its rule cited, so a step that jumps a hop, cites a rule the
/// problem lacks, or concludes what its rules do not give is invalid. A step that derives something new is valid; one
/// that only restates what is known is neutral. The answer step is correct when it matches the reference and a sound
/// step derived the asked property; a right answer never derived is a guess, and invalid.
/// </summary>
public sealed partial class LogicStepJudge : IStepJudge
{
    private readonly Problem _problem;
    private readonly HashSet<string> _people = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _categories = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _properties = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<(string Category, string Parent)> _categoryRules = [];
    private readonly HashSet<(string Category, string Property, bool Holds)> _propertyRules = [];
    private readonly string _askedPerson, _askedProperty;

    public LogicStepJudge(Problem problem)
    {
        _problem = problem;
        var memberships = ImmutableHashSet.Create<string>(StringComparer.Ordinal);
        string? askedPerson = null, askedProperty = null;
        foreach (var sentence in Sentences(problem.Question))
        {
            if (QuestionRegex().Match(sentence) is { Success: true } q)
            {
                (askedPerson, askedProperty) = (q.Groups["x"].Value, q.Groups["p"].Value.ToLowerInvariant());
                continue;
            }
            var parsed = Parse(sentence);
            switch (parsed)
            {
                case { Every: true, Article: true, Negated: false }:
                    _categories.Add(parsed.Subject); _categories.Add(parsed.Target);
                    _categoryRules.Add((Key(parsed.Subject), Key(parsed.Target)));
                    break;
                case { Every: true, Article: false }:
                    _categories.Add(parsed.Subject); _properties.Add(parsed.Target);
                    _propertyRules.Add((Key(parsed.Subject), Key(parsed.Target), !parsed.Negated));
                    break;
                case { Every: false, Article: true, Negated: false }:
                    _people.Add(parsed.Subject); _categories.Add(parsed.Target);
                    memberships = memberships.Add(Membership(parsed.Subject, parsed.Target));
                    break;
                default:
                    throw new ArgumentException($"problem {problem.Id}: '{sentence}' is not a logic-task sentence");
            }
        }
        if (askedPerson is null || askedProperty is null)
            throw new ArgumentException($"problem {problem.Id}: the question asks no 'Is X P?'");
        (_askedPerson, _askedProperty) = (askedPerson, askedProperty);
        _people.Add(askedPerson);
        _properties.Add(askedProperty);
        Start = new LogicState(memberships, ImmutableHashSet.Create<string>(StringComparer.Ordinal));
    }

    public SolutionState Start { get; }

    public (StepJudgement Judgement, SolutionState After) Judge(SolutionState before, string step)
    {
        var state = (LogicState)before;
        var sentences = Sentences(step).ToList();
        if (sentences.Count == 0) return (StepJudgement.Invalid("malformed: an empty step"), state);
        var (memberships, properties) = (state.Memberships, state.Properties);
        var rules = new List<Sentence>();
        var derived = new List<string>();
        string? answer = null;
        foreach (var text in sentences)
        {
            if (AnswerRegex().Match(text) is { Success: true } a)
            {
                answer = a.Groups["a"].Value.ToLowerInvariant();
                continue;
            }
            if (answer is not null) return (StepJudgement.Invalid($"malformed: '{text}' after the answer"), state);
            var sentence = Parse(text);
            if (sentence is null) return (StepJudgement.Invalid($"malformed: '{text}'"), state);
            if (Unknown(sentence) is { } unknown) return (StepJudgement.Invalid($"'{text}': {unknown}"), state);
            if (sentence.Every)
            {
                if (!IsRule(sentence)) return (StepJudgement.Invalid($"cites '{text}', which is not a rule of the problem"), state);
                rules.Add(sentence);
                continue;
            }
            // A fact: known already, or it must follow by the rules this step has cited.
            var fact = FactKey(sentence);
            if ((sentence.Article ? memberships : properties).Contains(fact)) continue;
            if (sentence.Article && sentence.Negated)
                return (StepJudgement.Invalid($"'{text}': nothing in the problem says what something is not"), state);
            var reached = Closure(sentence.Subject, memberships, rules);
            bool follows = sentence.Article
                ? reached.Contains(Key(sentence.Target))
                : rules.Any(r => !r.Article && r.Negated == sentence.Negated && Key(r.Target) == Key(sentence.Target) && reached.Contains(Key(r.Subject)));
            if (!follows)
                return (StepJudgement.Invalid($"'{text}' is neither given nor derived, and the rules cited do not give it"), state);
            if (sentence.Article) memberships = memberships.Add(fact);
            else properties = properties.Add(fact);
            derived.Add(text);
        }
        var after = new LogicState(memberships, properties);

        var content = derived.Count > 0
            ? StepJudgement.Valid($"derives {string.Join("; ", derived)}")
            : StepJudgement.Neutral("restates what is given or derived");
        if (answer is null) return (content, after);
        if (answer != _problem.Answer.Trim().ToLowerInvariant())
            return (new StepJudgement(StepLabel.Incorrect, $"answers {answer}, expected {_problem.Answer}"), after);
        if (!properties.Contains(PropertyKey(_askedPerson, _askedProperty, answer == "yes")))
            return (StepJudgement.Invalid($"answers {answer}, right, but no sound step derived whether {_askedPerson} is {_askedProperty} (a guess)"), after);
        return (new StepJudgement(StepLabel.Correct, $"answers {answer}, derived"), after);
    }

    /// <summary>The categories a person reaches from what is known through the given category rules.</summary>
    private static HashSet<string> Closure(string person, ImmutableHashSet<string> memberships, List<Sentence> rules)
    {
        var prefix = Key(person) + "|";
        var reached = memberships.Where(m => m.StartsWith(prefix, StringComparison.Ordinal)).Select(m => m[prefix.Length..]).ToHashSet();
        for (bool grew = true; grew;)
        {
            grew = false;
            foreach (var rule in rules.Where(r => r.Article))
                if (reached.Contains(Key(rule.Subject)) && reached.Add(Key(rule.Target))) grew = true;
        }
        return reached;
    }

    private string? Unknown(Sentence s)
    {
        if (s.Every && !_categories.Contains(s.Subject)) return $"'{s.Subject}' is no category of the problem";
        if (!s.Every && !_people.Contains(s.Subject)) return $"'{s.Subject}' is nobody in the problem";
        if (s.Article && !_categories.Contains(s.Target)) return $"'{s.Target}' is no category of the problem";
        if (!s.Article && !_properties.Contains(s.Target)) return $"'{s.Target}' is no property in the problem";
        return null;
    }

    private bool IsRule(Sentence s) => s.Article
        ? !s.Negated && _categoryRules.Contains((Key(s.Subject), Key(s.Target)))
        : _propertyRules.Contains((Key(s.Subject), Key(s.Target), !s.Negated));

    private static string FactKey(Sentence s) => s.Article ? Membership(s.Subject, s.Target) : PropertyKey(s.Subject, s.Target, !s.Negated);

    private static string Membership(string person, string category) => $"{Key(person)}|{Key(category)}";

    private static string PropertyKey(string person, string property, bool holds) => $"{Key(person)}|{Key(property)}|{(holds ? "yes" : "no")}";

    private static string Key(string word) => word.ToLowerInvariant();

    /// <summary>"Every C is (not) (a) T" or "X is (not) (a) T", with an optional leading "So" / "Therefore" / "Thus" / "Hence".</summary>
    private sealed record Sentence(bool Every, string Subject, bool Negated, bool Article, string Target);

    private static Sentence? Parse(string text)
    {
        var m = SentenceRegex().Match(text);
        return m.Success
            ? new Sentence(m.Groups["every"].Success, m.Groups["s"].Value, m.Groups["not"].Success, m.Groups["a"].Success, m.Groups["t"].Value)
            : null;
    }

    /// <summary>Sentences without their closing punctuation; a fragment cut off mid-sentence is a sentence too.</summary>
    private static IEnumerable<string> Sentences(string text) =>
        SentenceEndRegex().Split(text.Trim()).Select(s => s.Trim().TrimEnd('.', '!', ' ')).Where(s => s.Length > 0);

    [GeneratedRegex(@"(?<=[.!?])\s+")]
    private static partial Regex SentenceEndRegex();

    [GeneratedRegex(@"^(?:(?:so|therefore|thus|hence),?\s+)?(?:(?<every>every)\s+)?(?<s>[A-Za-z]+)\s+is\s+(?<not>not\s+)?(?<a>an?\s+)?(?<t>[A-Za-z]+)$", RegexOptions.IgnoreCase)]
    private static partial Regex SentenceRegex();

    [GeneratedRegex(@"^Is\s+(?<x>[A-Za-z]+)\s+(?<p>[A-Za-z]+)\?$")]
    private static partial Regex QuestionRegex();

    [GeneratedRegex(@"^(?:so,?\s+)?the\s+answer\s+is\s+(?<a>yes|no)$", RegexOptions.IgnoreCase)]
    private static partial Regex AnswerRegex();
}
