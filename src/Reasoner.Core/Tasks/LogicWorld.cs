namespace Reasoner.Core.Tasks;

/// <summary>One sentence of a logic problem.</summary>
internal abstract record LogicStatement
{
    public abstract string Sentence();

    public abstract IEnumerable<string> Categories();
}

/// <summary>"Alex is a wumpus."</summary>
internal sealed record IsA(string Person, string Category) : LogicStatement
{
    public override string Sentence() => $"{Person} is a {Category}.";

    public override IEnumerable<string> Categories() => [Category];
}

/// <summary>"Every wumpus is a yumpus."</summary>
internal sealed record Every(string Category, string Parent) : LogicStatement
{
    public override string Sentence() => $"Every {Category} is a {Parent}.";

    public override IEnumerable<string> Categories() => [Category, Parent];
}

/// <summary>"Every wumpus is bright." or "Every wumpus is not bright."</summary>
internal sealed record EveryHas(string Category, string Property, bool Holds) : LogicStatement
{
    public override string Sentence() => $"Every {Category} is {(Holds ? "" : "not ")}{Property}.";

    public override IEnumerable<string> Categories() => [Category];
}

/// <summary>
/// The statements of one logic problem, with the checks that keep distractors harmless: the category rules
/// form no cycle, nothing is both P and not P, and the asked person's only way to the asked property is the
/// gold chain, one rule per hop.
/// </summary>
internal sealed class LogicWorld
{
    private readonly List<LogicStatement> _statements = [];

    public IReadOnlyList<LogicStatement> Statements => _statements;

    public void Add(LogicStatement statement) => _statements.Add(statement);

    public IEnumerable<string> Categories() => _statements.SelectMany(s => s.Categories()).Distinct();

    /// <summary>Adds the statement if the world stays consistent and the gold chain stays the unique shortest derivation.</summary>
    public bool TryAdd(LogicStatement candidate, string person, string property, IReadOnlyList<string> chain)
    {
        if (_statements.Contains(candidate)) return false;
        if (candidate is Every rule && (rule.Category == rule.Parent || Reachable(rule.Parent).ContainsKey(rule.Category))) return false;
        _statements.Add(candidate);
        if (Consistent() && GoldChainIsTheOnlyWay(person, property, chain)) return true;
        _statements.RemoveAt(_statements.Count - 1);
        return false;
    }

    /// <summary>No category leads to both P and not P, so neither does any person in one.</summary>
    private bool Consistent() =>
        Categories().All(c =>
            PropertyRules(Reachable(c).Keys).GroupBy(h => h.Property).All(g => g.Select(h => h.Holds).Distinct().Count() == 1));

    private bool GoldChainIsTheOnlyWay(string person, string property, IReadOnlyList<string> chain)
    {
        var reached = Reachable(CategoriesOf(person));
        var ruleCategories = PropertyRules(reached.Keys).Where(h => h.Property == property).Select(h => h.Category).Distinct().ToList();
        return ruleCategories.SequenceEqual([chain[^1]])
            && chain.Select((c, i) => reached.TryGetValue(c, out var r) && r.Distance == i && r.Paths == 1).All(ok => ok);
    }

    private IEnumerable<string> CategoriesOf(string person) => _statements.OfType<IsA>().Where(f => f.Person == person).Select(f => f.Category);

    private IEnumerable<EveryHas> PropertyRules(IEnumerable<string> categories)
    {
        var set = categories.ToHashSet();
        return _statements.OfType<EveryHas>().Where(h => set.Contains(h.Category));
    }

    private Dictionary<string, (int Distance, int Paths)> Reachable(string start) => Reachable([start]);

    /// <summary>Breadth-first over "Every X is a Y": each reachable category's rule distance and number of shortest paths.</summary>
    private Dictionary<string, (int Distance, int Paths)> Reachable(IEnumerable<string> starts)
    {
        var frontier = starts.Distinct().ToList();
        var reached = frontier.ToDictionary(c => c, _ => (Distance: 0, Paths: 1));
        for (var distance = 1; frontier.Count > 0; distance++)
        {
            var next = new List<string>();
            foreach (var rule in _statements.OfType<Every>())
            {
                if (!frontier.Contains(rule.Category)) continue;
                var paths = reached[rule.Category].Paths;
                if (!reached.TryGetValue(rule.Parent, out var known)) { reached[rule.Parent] = (distance, paths); next.Add(rule.Parent); }
                else if (known.Distance == distance) reached[rule.Parent] = (distance, known.Paths + paths);
            }
            frontier = next;
        }
        return reached;
    }
}
