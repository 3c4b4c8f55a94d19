// A shared-library source: classes, enums, traits, annotations, generics.
package org.example.ci

import groovy.transform.Field
import java.util.concurrent.TimeUnit as TU

@Field final String DEFAULT_REGISTRY = 'registry.example.com'

enum Stage {
    BUILD('b'), TEST('t'), DEPLOY('d')

    final String code

    Stage(String code) { this.code = code }
}

interface Notifier {
    void notify(String message)
}

trait Retrying {
    int attempts = 3
    def withRetries(Closure body) {
        for (int i = 0; i < attempts; i++) {
            try {
                return body.call()
            } catch (IOException | InterruptedException e) {
                sleep(1000 * (i + 1))
            }
        }
        throw new IllegalStateException("gave up after ${attempts} attempts")
    }
}

@groovy.transform.CompileStatic
class Builder implements Retrying, Serializable {
    private static final long serialVersionUID = 1L
    protected Map<String, List<String>> images = [:]
    def steps

    Builder(steps) {
        this.steps = steps
    }

    String image(String name, String tag = 'latest') {
        images.computeIfAbsent(name) { [] } << tag
        return "${DEFAULT_REGISTRY}/${name}:${tag}"
    }

    static boolean isRelease(String branch) {
        branch ==~ /release\/\d+\.\d+/ || branch in ['main', 'master']
    }

    @Override
    String toString() { "Builder(${images.size()} images)" }
}

def call(Map args = [:]) {
    def b = new Builder(this)
    if (Builder.isRelease(env.BRANCH_NAME as String)) {
        echo b.image(args.name ?: 'app', env.TAG_NAME)
    }
    synchronized (this) {
        b.images.each { name, tags -> echo "$name: ${tags.join(', ')}" }
    }
    return b
}
