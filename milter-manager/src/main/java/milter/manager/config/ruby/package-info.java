/**
 * The JRuby side of the configuration: one runtime per process ({@link milter.manager.config.ruby.RubyRuntime}),
 * the Java objects the Ruby DSL library ({@code milter-manager-ruby/} on the class path) calls while a file loads
 * ({@link milter.manager.config.ruby.LoadSession}, {@link milter.manager.config.ruby.EggDraft},
 * {@link milter.manager.config.ruby.ConditionDraft}), and the Java faces of what the DSL defines
 * ({@link milter.manager.config.ruby.RubyApplicableCondition}, hooks). Public only because Ruby calls it; not an
 * API for other packages.
 */
package milter.manager.config.ruby;
