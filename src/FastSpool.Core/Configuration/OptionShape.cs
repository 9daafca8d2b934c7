namespace FastSpool.Configuration;

/// <summary>What a configuration key holds.</summary>
public enum OptionShape
{
    /// <summary>One value: a number, a time span, a name.</summary>
    Value,

    /// <summary>A list of strings (<c>[ "a", "b" ]</c>, or <c>Key:0</c>, <c>Key:1</c>).</summary>
    List,

    /// <summary>A section of keys (<c>Smtp</c>).</summary>
    Section,
}
