/* This file is part of omni-retail.  The COPYRIGHT file at the top level of
   this repository contains the full copyright notices and license terms. */

/* omni-retail additions to the Tryton web client (sao).  sao's index.html
   loads custom.js and custom.css from its root: `make setup` links this
   folder's files there.

   In-store new-order alert: when a platform or online order arrives for the
   user's store, omni_o2o saves a notification marked as a new order
   (res.notification of model sale.sale with the icon omni-new-order).  This
   script asks the server for those (omni.order.new_order_alerts) every few
   seconds, and at once when the bus (PostgreSQL with [bus] allow_subscribe)
   tells of a new notification; for each new one, once, it sounds a chime
   (Web Audio, generated here), speaks the server's announcement in the
   user's language (speechSynthesis), shows a banner that opens the order and
   refreshes the open order lists.

   Browsers let a page make sound only after a user gesture: the first click,
   tap or key press on the page (logging in is one) unlocks the sound.  Alerts
   that arrive before that are shown with a banner asking for a click, and
   sounded as soon as it comes. */
(function() {
    'use strict';
    if (!window.Sao) {
        return;
    }

    const METHOD = 'model.omni.order.new_order_alerts';
    const ORDER_MODEL = 'sale.sale';
    const POLL_SECONDS = 5;
    const RETRY_SECONDS = 30;
    const BANNER_SECONDS = 60;
    const TEXTS = {
        'en': {
            unlock: "New orders arrive with a sound: click here to allow it.",
            open: "Open",
            close: "Close",
        },
        'zh': {
            unlock: "新订单会有声音提醒：请点击此处开启声音。",
            open: "打开",
            close: "关闭",
        },
    };

    const state = {
        session: null,   // the session the state belongs to
        last: null,      // id of the last new-order notification seen
        announced: new Set(),
        pending: [],     // alerts waiting for the sound to be unlocked
        busy: false,
        disabled: false, // the server has no alerts for this session
        next: 0,         // when to ask the server next (ms)
        audio: null,     // the AudioContext
        unlocked: false,
    };

    function current_session() {
        const session = Sao.Session && Sao.Session.current_session;
        return (session && session.user_id) ? session : null;
    }

    function language() {
        const session = current_session();
        const code = (session && session.context && session.context.language)
            || Sao.i18n.getlang() || 'en';
        return code.replace('_', '-');
    }

    function text(name) {
        const prefix = language().split('-')[0];
        return (TEXTS[prefix] || TEXTS.en)[name];
    }

    // Sound

    function audio_context() {
        const AudioContext = window.AudioContext || window.webkitAudioContext;
        if (!state.audio && AudioContext) {
            try {
                state.audio = new AudioContext();
            } catch (e) {
                Sao.Logger.warn("omni alert: no audio", e);
            }
        }
        return state.audio;
    }

    function unlock() {
        if (state.unlocked) {
            return;
        }
        state.unlocked = true;
        const context = audio_context();
        if (context && context.state === 'suspended') {
            context.resume().catch(() => {});
        }
        if (context) {
            // A silent sound starts the output on older browsers
            const buffer = context.createBuffer(1, 1, 22050);
            const source = context.createBufferSource();
            source.buffer = buffer;
            source.connect(context.destination);
            source.start(0);
        }
        for (const event of ['pointerdown', 'keydown', 'touchstart']) {
            document.removeEventListener(event, unlock, true);
        }
        jQuery('.omni-alert-unlock').remove();
        const pending = state.pending;
        state.pending = [];
        if (pending.length) {
            sound(pending);
        }
    }
    for (const event of ['pointerdown', 'keydown', 'touchstart']) {
        document.addEventListener(event, unlock, true);
    }

    // Two rising tones, twice: ~1.2 s
    function chime() {
        const context = audio_context();
        if (!context) {
            return 0;
        }
        if (context.state === 'suspended') {
            context.resume().catch(() => {});
        }
        const start = context.currentTime + 0.05;
        const notes = [[880, 0], [1320, 0.18], [880, 0.6], [1320, 0.78]];
        for (const [frequency, offset] of notes) {
            const oscillator = context.createOscillator();
            const gain = context.createGain();
            oscillator.type = 'sine';
            oscillator.frequency.value = frequency;
            gain.gain.setValueAtTime(0.0001, start + offset);
            gain.gain.exponentialRampToValueAtTime(0.4, start + offset + 0.02);
            gain.gain.exponentialRampToValueAtTime(
                0.0001, start + offset + 0.35);
            oscillator.connect(gain);
            gain.connect(context.destination);
            oscillator.start(start + offset);
            oscillator.stop(start + offset + 0.4);
        }
        return 1200;
    }

    function voice(lang) {
        const voices = window.speechSynthesis.getVoices() || [];
        const wanted = lang.toLowerCase();
        const prefix = wanted.split('-')[0];
        return voices.find((v) => v.lang.replace('_', '-').toLowerCase() ==
                wanted) ||
            voices.find((v) => v.lang.toLowerCase().startsWith(prefix)) ||
            null;
    }

    function speak(sentence) {
        if (!window.speechSynthesis || !window.SpeechSynthesisUtterance) {
            return;
        }
        const lang = language();
        const utterance = new SpeechSynthesisUtterance(sentence);
        utterance.lang = lang;
        const found = voice(lang);
        if (found) {
            utterance.voice = found;
        }
        window.speechSynthesis.speak(utterance);
    }

    // One chime for the alerts that arrive together, then each announced
    function sound(alerts) {
        const delay = chime();
        window.setTimeout(() => {
            for (const alert of alerts) {
                speak(alert.announcement);
            }
        }, delay);
    }

    // Banners

    function container() {
        let el = jQuery('#omni-alerts');
        if (!el.length) {
            el = jQuery('<div/>', {
                'id': 'omni-alerts',
                'role': 'alert',
                'aria-live': 'assertive',
            }).appendTo('body');
        }
        return el;
    }

    function open_order(alert) {
        const session = current_session();
        if (!session) {
            return;
        }
        Sao.Tab.create({
            'model': ORDER_MODEL,
            'res_id': alert.sale,
            'mode': ['form', 'tree'],
            'domain': [['id', '=', alert.sale]],
            'context': jQuery.extend({}, session.context),
            'name': alert.number,
        });
    }

    function banner(alert) {
        const el = jQuery('<div/>', {
            'class': 'omni-alert alert alert-warning',
            'data-notification': alert.id,
            'data-sale': alert.sale,
        });
        jQuery('<button/>', {
            'type': 'button',
            'class': 'close',
            'title': text('close'),
            'aria-label': text('close'),
        }).append('&times;').click((evt) => {
            evt.stopPropagation();
            el.remove();
        }).appendTo(el);
        jQuery('<a/>', {
            'href': '#',
            'class': 'omni-alert-text',
            'title': text('open'),
        }).text(alert.announcement).click((evt) => {
            evt.preventDefault();
            el.remove();
            open_order(alert);
        }).appendTo(el);
        container().prepend(el);
        window.setTimeout(() => el.remove(), BANNER_SECONDS * 1000);
    }

    function unlock_banner() {
        if (state.unlocked || jQuery('.omni-alert-unlock').length) {
            return;
        }
        jQuery('<div/>', {
            'class': 'omni-alert omni-alert-unlock alert alert-danger',
        }).text(text('unlock')).appendTo(container());
    }

    // The open lists of orders show the new ones
    function refresh_order_lists() {
        for (const tab of Sao.Tab.tabs || []) {
            const screen = tab.screen;
            try {
                if (screen && screen.model_name == ORDER_MODEL &&
                    screen.current_view &&
                    screen.current_view.view_type == 'tree') {
                    screen.search_filter(
                        screen.screen_container.search_entry.val());
                }
            } catch (e) {
                Sao.Logger.warn("omni alert: list not refreshed", e);
            }
        }
    }

    function alert_new(alerts) {
        const fresh = alerts.filter((a) => !state.announced.has(a.id));
        if (!fresh.length) {
            return;
        }
        for (const alert of fresh) {
            state.announced.add(alert.id);
            banner(alert);
        }
        if (state.unlocked) {
            sound(fresh);
        } else {
            state.pending.push(...fresh);
            unlock_banner();
        }
        refresh_order_lists();
    }

    // Asking the server

    function poll() {
        const session = current_session();
        if (!session || state.busy || state.disabled) {
            return;
        }
        state.busy = true;
        Sao.rpc({
            'method': METHOD,
            'params': [state.last, {}],
        }, session, true, false).then((result) => {
            if (state.session !== session) {
                return;
            }
            if (state.last !== null) {
                alert_new(result.alerts);
            }
            state.last = result.last;
            state.next = Date.now() + POLL_SECONDS * 1000;
        }, (error) => {
            if (state.session !== session) {
                return;
            }
            if (error) {
                // The server refused: not an omni_o2o database, or no
                // right to it; stay quiet for this session
                state.disabled = true;
            } else {
                // The server is not reachable: try again later
                state.next = Date.now() + RETRY_SECONDS * 1000;
            }
        }).always(() => {
            state.busy = false;
        });
    }

    function tick() {
        const session = current_session();
        if (session !== state.session) {
            state.session = session;
            state.last = null;
            state.announced.clear();
            state.pending = [];
            state.disabled = false;
            state.next = 0;
            jQuery('#omni-alerts').remove();
        }
        if (session && Date.now() >= state.next) {
            poll();
        }
    }
    window.setInterval(tick, 1000);

    // The bus (when the server offers it) tells of new notifications at once
    if (Sao.NotificationMenu) {
        const notify = Sao.NotificationMenu.notify;
        Sao.NotificationMenu.notify = function(message) {
            notify(message);
            if (message && message.type == 'user-notification' &&
                message.count) {
                state.next = 0;
            }
        };
    }

    Sao.OmniAlert = {
        'state': state,
        'poll': () => {
            state.next = 0;
        },
    };
}());
