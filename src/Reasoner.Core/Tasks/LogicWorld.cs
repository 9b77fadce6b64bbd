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
/// gold chain, one rule per hop. Rules are also kept as adjacency maps, because the checks run for every
/// candidate distractor and must stay cheap.
/// </summary>
internal sealed class LogicWorld
{
    private readonly List<LogicStatement> _statements = [];
    private readonly List<string> _categories = [];
    private readonly Dictionary<string, List<string>> _parents = [];
    private readonly Dictionary<string, List<(string Property, bool Holds)>> _properties = [];

    public IReadOnlyList<LogicStatement> Statements => _statements;

    /// <summary>Every category mentioned so far, in order of first mention (so random picks from it are reproducible).</summary>
    public IReadOnlyList<string> Categories => _categories;

    public void Add(LogicStatement statement)
    {
        _statements.Add(statement);
        foreach (var category in statement.Categories())
            if (!_categories.Contains(category)) _categories.Add(category);
        switch (statement)
        {
            case Every rule: ListOf(_parents, rule.Category).Add(rule.Parent); break;
            case EveryHas has: ListOf(_properties, has.Category).Add((has.Property, has.Holds)); break;
        }
    }

    /// <summary>Adds the statement if the world stays consistent and the gold chain stays the unique shortest derivation.</summary>
    public bool TryAdd(LogicStatement candidate, string property, IReadOnlyList<string> chain)
    {
        if (_statements.Contains(candidate)) return false;
        if (candidate is Every rule && (rule.Category == rule.Parent || Reachable(rule.Parent).ContainsKey(rule.Category))) return false;
        var categoryCount = _categories.Count;
        Add(candidate);
        if (Consistent() && GoldChainIsTheOnlyWay(property, chain)) return true;

        _statements.RemoveAt(_statements.Count - 1);
        _categories.RemoveRange(categoryCount, _categories.Count - categoryCount);
        switch (candidate)
        {
            case Every undone: _parents[undone.Category].RemoveAt(_parents[undone.Category].Count - 1); break;
            case EveryHas undone: _properties[undone.Category].RemoveAt(_properties[undone.Category].Count - 1); break;
        }
        return false;
    }

    /// <summary>No category leads to both P and not P, so neither does any person in one.</summary>
    private bool Consistent()
    {
        // The rules form a DAG, so each category's derived properties are its own plus its parents'.
        var derived = new Dictionary<string, Dictionary<string, bool>?>();
        return _categories.All(c => Derive(c, derived) is not null);
    }

    /// <summary>The properties a member of the category has, or null when they contradict each other.</summary>
    private Dictionary<string, bool>? Derive(string category, Dictionary<string, Dictionary<string, bool>?> derived)
    {
        if (derived.TryGetValue(category, out var known)) return known;
        var properties = new Dictionary<string, bool>();
        var consistent = (_properties.GetValueOrDefault(category) ?? []).All(p => Merge(p.Property, p.Holds))
            && (_parents.GetValueOrDefault(category) ?? []).All(parent =>
                Derive(parent, derived) is { } inherited && inherited.All(p => Merge(p.Key, p.Value)));
        return derived[category] = consistent ? properties : null;

        bool Merge(string property, bool holds)
        {
            if (properties.TryGetValue(property, out var other) && other != holds) return false;
            properties[property] = holds;
            return true;
        }
    }

    private bool GoldChainIsTheOnlyWay(string property, IReadOnlyList<string> chain)
    {
        var reached = Reachable(chain[0]);
        var withProperty = reached.Keys.Where(c => _properties.GetValueOrDefault(c)?.Any(p => p.Property == property) == true);
        return withProperty.SequenceEqual([chain[^1]])
            && chain.Select((c, i) => reached.TryGetValue(c, out var r) && r.Distance == i && r.Paths == 1).All(ok => ok);
    }

    /// <summary>Breadth-first over "Every X is a Y": each reachable category's rule distance and number of shortest paths.</summary>
    private Dictionary<string, (int Distance, int Paths)> Reachable(string start)
    {
        var reached = new Dictionary<string, (int Distance, int Paths)> { [start] = (0, 1) };
        var frontier = new List<string> { start };
        for (var distance = 1; frontier.Count > 0; distance++)
        {
            var next = new List<string>();
            foreach (var category in frontier)
            {
                var paths = reached[category].Paths;
                foreach (var parent in _parents.GetValueOrDefault(category) ?? [])
                {
                    if (!reached.TryGetValue(parent, out var seen)) { reached[parent] = (distance, paths); next.Add(parent); }
                    else if (seen.Distance == distance) reached[parent] = (distance, seen.Paths + paths);
                }
            }
            frontier = next;
        }
        return reached;
    }

    private static List<T> ListOf<T>(Dictionary<string, List<T>> map, string key) =>
        map.TryGetValue(key, out var list) ? list : map[key] = [];
}
