namespace FastSpool.Cli.Sendmail;

/// <summary>What a <c>sendmail</c> invocation does (its <c>-b</c> option, or the name it was called by).</summary>
internal enum SendmailMode
{
    /// <summary><c>-bm</c>: deliver a message read from standard input (the default).</summary>
    Deliver,

    /// <summary><c>-bp</c>, or called as <c>mailq</c>: list the queue.</summary>
    ListQueue,

    /// <summary><c>-bs</c>: SMTP on standard input and output.</summary>
    Smtp,

    /// <summary><c>-bv</c>: say what would become of each address; send nothing.</summary>
    Verify,

    /// <summary><c>-bi</c>, or called as <c>newaliases</c>: check the aliases and have the server read them.</summary>
    Newaliases,

    /// <summary><c>-q</c>: run the queue now.</summary>
    Flush,
}
