using System.CommandLine;

namespace Reasoner.Cli.Commands;

/// <summary>
/// Enum options spelled in kebab-case on the command line (trl-pairs, monte-carlo-value), with the
/// accepted values and the default shown in that spelling by --help.
/// </summary>
static class EnumOption
{
    public static Option<string> Create<T>(string name, string description, T? defaultValue, params string[] aliases) where T : struct, Enum
    {
        var option = new Option<string>(name, aliases) { Description = description, HelpName = string.Join('|', Enum.GetValues<T>().Select(v => Kebab(v.ToString()))) };
        if (defaultValue is { } d) option.DefaultValueFactory = _ => Kebab(d.ToString());
        option.AcceptOnlyFromAmong([.. Enum.GetValues<T>().Select(v => Kebab(v.ToString()))]);
        return option;
    }

    public static T Value<T>(ParseResult parse, Option<string> option) where T : struct, Enum =>
        Enum.GetValues<T>().First(v => Kebab(v.ToString()) == parse.GetValue(option));

    public static T? ValueOrNull<T>(ParseResult parse, Option<string> option) where T : struct, Enum =>
        parse.GetValue(option) is null ? null : Value<T>(parse, option);

    public static string Kebab(string pascal) =>
        string.Concat(pascal.Select((c, i) => char.IsUpper(c) && i > 0 ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}
